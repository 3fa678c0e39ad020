//! Auth configs: validating and sealing an OAuth app's credentials.

use super::store::AuthConfigRecord;
use super::{clock, secrets, views, Engine, Principal};
use crate::catalog::AuthKind;
use crate::model::{CreateAuthConfigRequest, CreateAuthConfigResponse, AuthConfigInfo, ToolkitRef, AUTH_CONFIG_PREFIX};
use crate::{Error, Result};

impl Engine {
    /// `POST /api/v3.1/auth_configs`: stores an OAuth app's credentials for a toolkit.
    pub async fn create_auth_config(&self, who: &Principal, req: CreateAuthConfigRequest) -> Result<CreateAuthConfigResponse> {
        who.require_project()?;
        let slug = req.toolkit.slug.trim().to_string();
        let def = self.catalog.get(&slug).ok_or_else(|| Error::not_found("toolkit", &slug))?;
        let ac = req.auth_config;
        if ac.kind != "use_custom_auth" {
            return Err(Error::validation(
                "auth_config.type",
                "only \"use_custom_auth\" is supported: a self-hosted broker has no managed OAuth apps",
            ));
        }
        if !ac.auth_scheme.eq_ignore_ascii_case("OAUTH2") || def.auth != AuthKind::Oauth2 {
            return Err(Error::validation(
                "auth_config.auth_scheme",
                format!("toolkit {slug} uses {}; only OAUTH2 auth configs can be created", def.auth.scheme()),
            ));
        }
        let client_id = at_most(required(ac.credentials.client_id, "auth_config.credentials.client_id")?, "auth_config.credentials.client_id", MAX_CREDENTIAL)?;
        let client_secret =
            at_most(required(ac.credentials.client_secret, "auth_config.credentials.client_secret")?, "auth_config.credentials.client_secret", MAX_CREDENTIAL)?;
        let name = ac.name.filter(|n| !n.trim().is_empty()).map(|n| at_most(n, "auth_config.name", MAX_NAME)).transpose()?;
        let mut scopes = ac.credentials.scopes.map(|s| s.into_vec()).unwrap_or_default();
        scopes.extend(ac.credentials.user_scopes.map(|s| s.into_vec()).unwrap_or_default());
        if scopes.len() > MAX_SCOPES {
            return Err(Error::validation("auth_config.credentials.scopes", format!("at most {MAX_SCOPES} scopes")));
        }
        for (i, scope) in scopes.iter().enumerate() {
            at_most(scope.clone(), &format!("auth_config.credentials.scopes[{i}]"), MAX_NAME)?;
        }
        if scopes.is_empty() {
            scopes = def.oauth2.as_ref().map(|o| o.default_scopes.clone()).unwrap_or_default();
        }
        let id = secrets::new_id(AUTH_CONFIG_PREFIX)?;
        let record = AuthConfigRecord {
            client_secret_sealed: Some(self.vault.seal(&id, client_secret.as_bytes())?),
            id,
            project_id: who.project.id.clone(),
            toolkit: slug.clone(),
            name,
            auth_scheme: "OAUTH2".into(),
            client_id: Some(client_id),
            scopes,
            is_disabled: false,
            created_at: clock::now_ms(),
        };
        self.store.insert_auth_config(&record).await?;
        Ok(CreateAuthConfigResponse { toolkit: ToolkitRef { slug }, auth_config: views::auth_config(&record) })
    }

    /// A project's auth configs, newest first, without secrets.
    pub async fn list_auth_configs(&self, who: &Principal) -> Result<Vec<AuthConfigInfo>> {
        who.require_project()?;
        Ok(self.store.list_auth_configs(&who.project.id).await?.iter().map(views::auth_config).collect())
    }
}

/// Longest display name or scope.
const MAX_NAME: usize = 256;
/// Longest client id or client secret.
const MAX_CREDENTIAL: usize = 4096;
/// Most scopes one auth config asks for.
const MAX_SCOPES: usize = 100;

fn at_most(value: String, field: &str, max: usize) -> Result<String> {
    match value.chars().count() > max {
        true => Err(Error::validation(field, format!("longer than {max} characters"))),
        false => Ok(value),
    }
}

fn required(value: Option<String>, field: &str) -> Result<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or_else(|| Error::validation(field, "is required"))
}
