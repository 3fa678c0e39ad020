//! Records turned into the wire shapes the API returns (never with secrets).

use super::clock::rfc3339;
use super::store::{AccountRecord, AuthConfigRecord};
use crate::model::{AccountAuthConfig, AccountState, AccountStateVal, AuthConfigInfo, ConnectedAccount, ToolkitAccount, ToolkitAuthConfig, ToolkitRef};

/// An account as the API shows it; `auth_config_disabled` is its auth config's flag,
/// `reconnecting` whether a reconnect link is out.
pub(crate) fn account(a: &AccountRecord, auth_config_disabled: bool, reconnecting: bool) -> ConnectedAccount {
    ConnectedAccount {
        id: a.id.clone(),
        user_id: a.user_id.clone(),
        toolkit: ToolkitRef { slug: a.toolkit.clone() },
        auth_config: AccountAuthConfig {
            id: a.auth_config_id.clone(),
            auth_scheme: a.auth_scheme.clone(),
            is_composio_managed: false,
            is_disabled: auth_config_disabled,
        },
        status: a.status,
        status_reason: a.status_reason.clone(),
        alias: a.alias.clone(),
        is_disabled: a.is_disabled,
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
        data: Default::default(),
        params: Default::default(),
        state: AccountState { auth_scheme: a.auth_scheme.clone(), val: AccountStateVal { status: a.status.as_str().to_string() } },
        reconnecting,
    }
}

pub(crate) fn toolkit_account(a: &AccountRecord) -> ToolkitAccount {
    ToolkitAccount {
        id: a.id.clone(),
        status: a.status,
        user_id: a.user_id.clone(),
        created_at: rfc3339(a.created_at),
        auth_config: ToolkitAuthConfig {
            id: a.auth_config_id.clone(),
            auth_scheme: a.auth_scheme.clone(),
            is_composio_managed: false,
        },
    }
}

pub(crate) fn auth_config(c: &AuthConfigRecord) -> AuthConfigInfo {
    AuthConfigInfo {
        id: c.id.clone(),
        auth_scheme: c.auth_scheme.clone(),
        is_composio_managed: false,
        is_disabled: c.is_disabled,
        name: c.name.clone(),
        toolkit: Some(c.toolkit.clone()),
        scopes: c.scopes.clone(),
        extra: Default::default(),
    }
}
