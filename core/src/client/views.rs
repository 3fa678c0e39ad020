//! Host views: the core's wire types flattened the one way every SDK shows them.
//!
//! The broker's answers nest (`toolkit.slug`, `auth_config.id`, `meta.logo`) and carry fields
//! no SDK shows (`data`, `params`, `state`); what a host shows is flatter, and some of it is a
//! rule (`is_active` is ACTIVE *and* not disabled; a toolkit is connected only through an ACTIVE
//! account). Those rules are written here once: Python's and Node's classes copy these structs
//! field by field, and the browser build serializes them as they are.
//!
//! **Serialized keys are camelCase** (`userId`, `isActive`, `nextCursor`): `Serialize` exists
//! for the JavaScript hosts only (the browser build turns a view into a page object with it;
//! Python reads the fields and never serializes a view), and camelCase is how every JavaScript
//! SDK of Grantline spells its fields, as [`super::options::Naming::Camel`] spells option names.
//! Rust code reads the fields, which are snake_case like everything else in Rust.

use serde::Serialize;

use crate::model::{ConnectedAccount, Page, RefreshAccountResponse, RevokeAccountResponse, SearchHit, ToolkitAccount, ToolkitItem};

/// A user's connection to one toolkit, as every SDK shows it (credentials never included).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// `ca_…`
    pub id: String,
    /// The end user it belongs to.
    pub user_id: String,
    /// The toolkit's slug, e.g. `github`.
    pub toolkit: String,
    /// `INITIATED`, `ACTIVE`, `FAILED`, `EXPIRED`, `REVOKED` or `INACTIVE`.
    pub status: String,
    /// Why it is FAILED, EXPIRED or REVOKED, when known.
    pub status_reason: Option<String>,
    /// The name given at authorize time.
    pub alias: Option<String>,
    /// Disabled by the app.
    pub is_disabled: bool,
    /// True when the account can be used: ACTIVE and not disabled.
    pub is_active: bool,
    /// The auth config it was made with (`ac_…`).
    pub auth_config_id: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// True while a reconnect link (`refresh`) is out; the account keeps its status meanwhile.
    pub reconnecting: bool,
}

impl From<ConnectedAccount> for AccountView {
    fn from(a: ConnectedAccount) -> Self {
        Self {
            is_active: a.is_active(),
            id: a.id,
            user_id: a.user_id,
            toolkit: a.toolkit.slug,
            status: a.status.as_str().to_string(),
            status_reason: a.status_reason,
            alias: a.alias,
            is_disabled: a.is_disabled,
            auth_config_id: a.auth_config.id,
            created_at: a.created_at,
            updated_at: a.updated_at,
            reconnecting: a.reconnecting,
        }
    }
}

/// A reconnect under way (`connected_accounts.refresh`): the account keeps its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshedAccountView {
    /// `ca_…`, the same account.
    pub id: String,
    /// The new Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The account's status now; it keeps it until the user completes the link.
    pub status: String,
}

impl From<RefreshAccountResponse> for RefreshedAccountView {
    fn from(r: RefreshAccountResponse) -> Self {
        Self { id: r.id, redirect_url: r.redirect_url, status: r.status.as_str().to_string() }
    }
}

/// What `connected_accounts.revoke` did: the account is REVOKED and its credentials are gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedAccountView {
    /// `ca_…`
    pub id: String,
    /// `REVOKED`.
    pub status: String,
    /// The tokens the provider revoked on this call (`refresh_token`, `access_token`).
    pub revoked_tokens: Vec<String>,
    /// `revoked`, `not_supported` (only the broker's copy is gone) or `nothing_to_revoke`.
    pub provider_revocation: String,
    /// What the app should know when the provider could not revoke the grant.
    pub note: Option<String>,
}

impl From<RevokeAccountResponse> for RevokedAccountView {
    fn from(r: RevokeAccountResponse) -> Self {
        Self {
            id: r.connected_account.id,
            status: r.connected_account.status.as_str().to_string(),
            revoked_tokens: r.revoked_tokens,
            provider_revocation: r.provider_revocation.as_str().to_string(),
            note: r.note,
        }
    }
}

/// The user's account a toolkit reports (the most recent ACTIVE one, else the most recent one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolkitConnectionView {
    /// True when that account is ACTIVE.
    pub is_active: bool,
    /// `ca_…`
    pub connected_account_id: String,
    /// The account's status.
    pub status: String,
    /// The auth config it uses (`ac_…`).
    pub auth_config_id: String,
    /// `OAUTH2`, `API_KEY`, …
    pub auth_scheme: String,
}

impl From<ToolkitAccount> for ToolkitConnectionView {
    fn from(a: ToolkitAccount) -> Self {
        Self {
            is_active: a.is_active(),
            connected_account_id: a.id,
            status: a.status.as_str().to_string(),
            auth_config_id: a.auth_config.id,
            auth_scheme: a.auth_config.auth_scheme,
        }
    }
}

/// A toolkit of the session and whether the user has connected it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolkitView {
    /// e.g. `github`.
    pub slug: String,
    /// e.g. `GitHub`.
    pub name: String,
    /// What it gives an agent.
    pub description: String,
    /// Logo URL.
    pub logo: String,
    /// True when nothing needs connecting.
    pub is_no_auth: bool,
    /// Whether the session enables it.
    pub enabled: bool,
    /// True when the user has an ACTIVE account for it (its `connection` is active).
    pub is_connected: bool,
    /// The user's account for it, if any.
    pub connection: Option<ToolkitConnectionView>,
}

impl From<ToolkitItem> for ToolkitView {
    fn from(t: ToolkitItem) -> Self {
        Self {
            is_connected: t.is_connected(),
            slug: t.slug,
            name: t.name,
            description: t.meta.description,
            logo: t.meta.logo,
            is_no_auth: t.is_no_auth,
            enabled: t.enabled,
            connection: t.connected_account.map(ToolkitConnectionView::from),
        }
    }
}

/// One tool `search` found, best first.
///
/// Python and Node showed the same seven fields; they disagreed only in what they said
/// `is_connected` means ("an active account for the tool's toolkit"). The rule is the broker's
/// (`toolkit_connection_statuses[].has_active_connection`): an active account, *or* a toolkit
/// that needs no connection. Every host now documents that.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHitView {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`; pass it to `execute`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// The slug of the tool's toolkit, e.g. `github`.
    pub toolkit: String,
    /// JSON Schema of the arguments.
    pub input_parameters: serde_json::Value,
    /// Relevance (BM25); higher is better.
    pub score: f64,
    /// True when the user can run it now: an active account for its toolkit, or a toolkit that
    /// needs no connection.
    pub is_connected: bool,
}

impl From<SearchHit> for SearchHitView {
    fn from(h: SearchHit) -> Self {
        Self {
            slug: h.slug,
            name: h.name,
            description: h.description,
            toolkit: h.toolkit,
            input_parameters: h.input_parameters,
            score: h.score,
            is_connected: h.is_connected,
        }
    }
}

/// One page of a list, its items already in a host's view (`PageView<AccountView>`, or a
/// binding's own class: any `T` made `From` the wire item).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageView<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` (`null`) on the last one.
    pub next_cursor: Option<String>,
    /// Number of pages at this page's limit.
    pub total_pages: u64,
    /// 1-based number of this page.
    pub current_page: u64,
    /// Number of items across all pages.
    pub total_items: u64,
}

impl<W, T: From<W>> From<Page<W>> for PageView<T> {
    fn from(p: Page<W>) -> Self {
        Self {
            items: p.items.into_iter().map(T::from).collect(),
            next_cursor: p.next_cursor,
            total_pages: p.total_pages,
            current_page: p.current_page,
            total_items: p.total_items,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An account as the broker sends it.
    fn account(status: &str, disabled: bool) -> ConnectedAccount {
        serde_json::from_value(json!({
            "id": "ca_1", "user_id": "ada", "toolkit": {"slug": "github"},
            "auth_config": {"id": "ac_1", "auth_scheme": "OAUTH2", "is_composio_managed": false},
            "status": status, "is_disabled": disabled, "alias": "work",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
        }))
        .unwrap()
    }

    /// A toolkit item whose latest account has `status`.
    fn toolkit(status: Option<&str>, no_auth: bool) -> ToolkitItem {
        let account = status.map(|s| {
            json!({"id": "ca_1", "status": s, "user_id": "ada", "created_at": "2026-01-01T00:00:00Z",
                   "auth_config": {"id": "ac_1", "auth_scheme": "OAUTH2", "is_composio_managed": false}})
        });
        serde_json::from_value(json!({
            "slug": "github", "name": "GitHub", "meta": {"description": "Code", "logo": "https://l/g.png"},
            "is_no_auth": no_auth, "enabled": true, "connected_account": account,
        }))
        .unwrap()
    }

    #[test]
    fn an_active_account_that_the_app_disabled_is_not_active() {
        let v = AccountView::from(account("ACTIVE", true));
        assert_eq!((v.status.as_str(), v.is_disabled, v.is_active), ("ACTIVE", true, false));
        assert!(AccountView::from(account("ACTIVE", false)).is_active);
        assert!(!AccountView::from(account("EXPIRED", false)).is_active);
    }

    #[test]
    fn an_account_is_flattened_and_keeps_nothing_else() {
        let v = AccountView::from(account("INITIATED", false));
        assert_eq!((v.toolkit.as_str(), v.auth_config_id.as_str(), v.alias.as_deref()), ("github", "ac_1", Some("work")));
        assert!(!v.reconnecting);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({
                "id": "ca_1", "userId": "ada", "toolkit": "github", "status": "INITIATED", "statusReason": null,
                "alias": "work", "isDisabled": false, "isActive": false, "authConfigId": "ac_1",
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z", "reconnecting": false,
            }),
            "the browser's keys, camelCase, and no credential bag"
        );
    }

    #[test]
    fn a_toolkit_whose_account_expired_is_not_connected() {
        let v = ToolkitView::from(toolkit(Some("EXPIRED"), false));
        assert!(!v.is_connected);
        let c = v.connection.expect("the account is still reported");
        assert_eq!((c.status.as_str(), c.is_active, c.connected_account_id.as_str()), ("EXPIRED", false, "ca_1"));
        assert!(ToolkitView::from(toolkit(Some("ACTIVE"), false)).is_connected);
        let none = ToolkitView::from(toolkit(None, false));
        assert!(!none.is_connected && none.connection.is_none());
        assert_eq!(
            serde_json::to_value(ToolkitView::from(toolkit(Some("ACTIVE"), false))).unwrap(),
            json!({
                "slug": "github", "name": "GitHub", "description": "Code", "logo": "https://l/g.png", "isNoAuth": false,
                "enabled": true, "isConnected": true,
                "connection": {"isActive": true, "connectedAccountId": "ca_1", "status": "ACTIVE", "authConfigId": "ac_1", "authScheme": "OAUTH2"},
            })
        );
    }

    #[test]
    fn a_page_converts_its_items_and_keeps_where_the_next_starts() {
        let page = Page { items: vec![account("ACTIVE", false), account("ACTIVE", true)], next_cursor: Some("2".into()), total_pages: 3, current_page: 1, total_items: 5 };
        let v: PageView<AccountView> = page.into();
        assert_eq!(v.items.iter().map(|a| a.is_active).collect::<Vec<_>>(), vec![true, false]);
        let keys = serde_json::to_value(&v).unwrap();
        assert_eq!((keys["nextCursor"].clone(), keys["totalPages"].clone(), keys["currentPage"].clone(), keys["totalItems"].clone()), (json!("2"), json!(3), json!(1), json!(5)));
        let last: PageView<AccountView> = Page::<ConnectedAccount> { items: vec![], next_cursor: None, total_pages: 1, current_page: 1, total_items: 0 }.into();
        assert_eq!(serde_json::to_value(&last).unwrap()["nextCursor"], json!(null));
    }

    #[test]
    fn a_revoke_and_a_reconnect_are_flattened_with_their_wire_names() {
        let revoked: RevokeAccountResponse = serde_json::from_value(json!({
            "revoked_tokens": ["refresh_token"], "connected_account": {"id": "ca_1", "status": "REVOKED"},
            "provider_revocation": "not_supported", "note": "only the broker's copy is gone",
        }))
        .unwrap();
        let v = RevokedAccountView::from(revoked);
        assert_eq!((v.id.as_str(), v.status.as_str(), v.provider_revocation.as_str()), ("ca_1", "REVOKED", "not_supported"));
        let refreshed: RefreshAccountResponse = serde_json::from_value(json!({"id": "ca_1", "redirect_url": "https://b/link/ln_1", "status": "EXPIRED"})).unwrap();
        assert_eq!(serde_json::to_value(RefreshedAccountView::from(refreshed)).unwrap(), json!({"id": "ca_1", "redirectUrl": "https://b/link/ln_1", "status": "EXPIRED"}));
    }

    #[test]
    fn a_search_hit_keeps_the_brokers_connection_rule() {
        let hit = SearchHit {
            slug: "HACKERNEWS_TOP".into(),
            name: "Top stories".into(),
            description: "d".into(),
            toolkit: "hackernews".into(),
            input_parameters: json!({"type": "object"}),
            score: 1.25,
            is_connected: true,
        };
        let v = SearchHitView::from(hit);
        assert!(v.is_connected);
        assert_eq!(serde_json::to_value(&v).unwrap()["inputParameters"], json!({"type": "object"}));
    }
}
