//! Sessions: creating them, and the toolkits they show with the user's connection state.

use std::collections::BTreeMap;

use crate::engine::accounts::pick_account;
use crate::engine::store::SessionRecord;
use crate::engine::{clock, secrets, views, Engine, Principal};
use crate::model::{
    is_empty_value,
    check_id, AccountIdsInput, CreateSessionRequest, DeleteSessionResponse, ExecuteSetting, ManageConnectionsConfig,
    ManageConnectionsInput, McpInfo, Page, PageRequest, PreloadTools, PreloadView, SearchSetting, SessionConfig, SessionConfigView,
    SessionInfo, SessionSettings, ToolkitItem, ToolkitMeta, ToolkitsConfig, ToolkitsInput, UpdateSessionRequest, WorkbenchView,
    ACCOUNT_PREFIX, AUTH_CONFIG_PREFIX, SESSION_PREFIX,
};
use crate::{Error, Result};

/// Most toolkit slugs one list in a request may name (more than any catalog holds).
const MAX_TOOLKITS_LISTED: usize = 1000;

/// Longest accepted `user_id`.
const MAX_USER_ID: usize = 256;

/// Toolkit-list filters as the API receives them (already split, still unchecked).
#[derive(Debug, Default, Clone)]
pub struct ToolkitFilter {
    /// Only these slugs.
    pub toolkits: Vec<String>,
    /// Only connected / unconnected ones.
    pub is_connected: Option<bool>,
    /// Text to find in slug, name or description.
    pub search: Option<String>,
}

/// What a create or a `PATCH` asks to change; `None` leaves a part as it is.
struct SessionChanges {
    toolkits: Option<ToolkitsInput>,
    manage_connections: Option<ManageConnectionsInput>,
    auth_configs: Option<BTreeMap<String, String>>,
    connected_accounts: Option<BTreeMap<String, AccountIdsInput>>,
    direct_tools: Option<Vec<String>>,
    settings: SessionSettings,
}

impl Engine {
    /// `POST /api/v3.1/tool_router/session`.
    pub async fn create_session(&self, who: &Principal, req: CreateSessionRequest) -> Result<SessionInfo> {
        who.require_project()?;
        let user_id = req.user_id.trim().to_string();
        if user_id.is_empty() || user_id.len() > MAX_USER_ID {
            return Err(Error::validation("user_id", format!("must be 1 to {MAX_USER_ID} characters")));
        }
        let mut config = SessionConfig {
            user_id,
            toolkits: None,
            manage_connections: ManageConnectionsConfig::default(),
            auth_configs: BTreeMap::new(),
            connected_accounts: BTreeMap::new(),
            direct_tools: vec![],
            preload_all: false,
            search: SearchSetting::on(),
            execute: ExecuteSetting::on(),
            config_version: 1,
        };
        let changes = SessionChanges {
            toolkits: req.toolkits,
            manage_connections: req.manage_connections,
            auth_configs: Some(req.auth_configs),
            connected_accounts: Some(req.connected_accounts),
            direct_tools: (!req.direct_tools.is_empty()).then_some(req.direct_tools),
            settings: req.settings,
        };
        self.apply_session_changes(who, &mut config, changes).await?;
        let record = SessionRecord {
            id: secrets::new_id(SESSION_PREFIX)?,
            project_id: who.project.id.clone(),
            config,
            created_at: clock::now_ms(),
        };
        self.store.insert_session(&record).await?;
        Ok(self.session_info(&record))
    }

    /// `PATCH /api/v3.1/tool_router/session/{id}`: the fields given replace the session's, all
    /// checked before anything is written; the version goes up by one. A session changed since
    /// `expected_config_version` (or by a concurrent `PATCH`) answers 409 and changes nothing.
    pub async fn update_session(&self, who: &Principal, session_id: &str, req: UpdateSessionRequest) -> Result<SessionInfo> {
        who.require_project()?;
        let mut record = self.load_session(who, session_id).await?;
        let seen = record.config.config_version;
        if let Some(expected) = req.expected_config_version {
            if expected != seen {
                return Err(Error::Conflict(format!(
                    "the session is at config version {seen}, not {expected}: read it again and retry"
                )));
            }
        }
        let changes = SessionChanges {
            toolkits: req.toolkits,
            manage_connections: req.manage_connections,
            auth_configs: req.auth_configs,
            connected_accounts: req.connected_accounts,
            direct_tools: req.direct_tools,
            settings: req.settings,
        };
        self.apply_session_changes(who, &mut record.config, changes).await?;
        record.config.config_version = seen + 1;
        if !self.store.update_session_config(&who.project.id, session_id, seen, &record.config).await? {
            return Err(Error::Conflict("the session changed meanwhile: read it again and retry".into()));
        }
        Ok(self.session_info(&record))
    }

    /// `DELETE /api/v3.1/tool_router/session/{id}`: the session, its client tokens and its MCP credentials go; the
    /// user's connected accounts stay (they belong to the user, not to one session).
    pub async fn delete_session(&self, who: &Principal, session_id: &str) -> Result<DeleteSessionResponse> {
        who.require_project()?;
        check_id("session_id", session_id, SESSION_PREFIX)?;
        if !self.store.delete_session(&who.project.id, session_id).await? {
            return Err(Error::not_found("session", session_id));
        }
        Ok(DeleteSessionResponse { session_id: session_id.to_string(), deleted: true })
    }

    /// `GET /api/v3.1/tool_router/session/{id}`.
    pub async fn get_session(&self, who: &Principal, session_id: &str) -> Result<SessionInfo> {
        Ok(self.session_info(&self.load_session(who, session_id).await?))
    }

    pub(crate) async fn load_session(&self, who: &Principal, session_id: &str) -> Result<SessionRecord> {
        check_id("session_id", session_id, SESSION_PREFIX)?;
        who.check_session(session_id)?;
        self.store
            .get_session(&who.project.id, session_id)
            .await?
            .ok_or_else(|| Error::not_found("session", session_id))
    }

    pub(crate) fn session_info(&self, s: &SessionRecord) -> SessionInfo {
        SessionInfo {
            session_id: s.id.clone(),
            mcp: McpInfo { kind: "http".into(), url: self.mcp_url(&s.id) },
            tool_router_tools: super::tools::meta_tools(&s.config)
                .into_iter()
                .map(|t| t.slug)
                .chain(s.config.direct_tools.iter().cloned())
                .collect(),
            config: SessionConfigView {
                config: s.config.clone(),
                preload: PreloadView {
                    tools: match s.config.preload_all {
                        true => PreloadTools::All("all".into()),
                        false => PreloadTools::List(s.config.direct_tools.clone()),
                    },
                },
                instant: false,
                workbench: WorkbenchView { enable: false },
            },
            config_version: s.config.config_version,
        }
    }

    /// Checks every change, naming the first bad field, and applies them to `config`; the
    /// caller writes nothing when this fails.
    async fn apply_session_changes(&self, who: &Principal, config: &mut SessionConfig, ch: SessionChanges) -> Result<()> {
        let settings = ch.settings;
        if let Some(name) = settings.unknown.keys().next() {
            return Err(Error::validation(name.as_str(), "unknown field"));
        }
        refuse_unsupported_settings(&settings)?;
        if let Some(toolkits) = ch.toolkits {
            config.toolkits = match toolkits {
                ToolkitsInput::Enable { require_approval: Some(r), .. } | ToolkitsInput::Disable { require_approval: Some(r), .. } if !r.is_empty() => {
                    return Err(approval_refused("toolkits.require_approval"))
                }
                ToolkitsInput::List(enabled) | ToolkitsInput::Enable { enable: enabled, .. } => {
                    Some(ToolkitsConfig::Enabled { enabled: self.known_slugs("toolkits", enabled)? })
                }
                ToolkitsInput::Disable { disable, .. } => Some(ToolkitsConfig::Disabled { disabled: self.known_slugs("toolkits.disable", disable)? }),
            };
        }
        if let Some(mc) = ch.manage_connections {
            config.manage_connections = match mc {
                ManageConnectionsInput::Flag(enabled) => ManageConnectionsConfig { enabled, ..Default::default() },
                ManageConnectionsInput::Options(o) => {
                    if let Some(cb) = &o.callback_url {
                        self.check_callback_url(who, "manage_connections.callback_url", cb)?;
                    }
                    if o.enable_connection_removal == Some(true) {
                        return Err(Error::validation(
                            "manage_connections.enable_connection_removal",
                            "agents cannot remove connections in Grantline; remove them from your backend (DELETE …/connected_accounts/{id})",
                        ));
                    }
                    ManageConnectionsConfig {
                        enabled: o.enable.unwrap_or(true),
                        callback_url: o.callback_url,
                        enable_wait_for_connections: o.enable_wait_for_connections.unwrap_or(false),
                    }
                }
            };
        }
        if let Some(acs) = ch.auth_configs {
            let mut auth_configs = BTreeMap::new();
            for (slug, id) in acs {
                let field = format!("auth_configs.{slug}");
                self.known_slug(&field, &slug)?;
                check_id(&field, &id, AUTH_CONFIG_PREFIX)?;
                let ac = self.store.get_auth_config(&who.project.id, &id).await?.ok_or_else(|| Error::not_found("auth config", &id))?;
                if ac.toolkit != slug {
                    return Err(Error::validation(field, format!("{id} is an auth config for {}, not {slug}", ac.toolkit)));
                }
                auth_configs.insert(slug, id);
            }
            config.auth_configs = auth_configs;
        }
        if let Some(pins) = ch.connected_accounts {
            let mut connected_accounts = BTreeMap::new();
            for (slug, ids) in pins {
                let field = format!("connected_accounts.{slug}");
                self.known_slug(&field, &slug)?;
                let ids = ids.into_vec();
                for id in &ids {
                    check_id(&field, id, ACCOUNT_PREFIX)?;
                    let a = self.store.get_account(&who.project.id, id).await?.ok_or_else(|| Error::not_found("connected account", id))?;
                    if a.user_id != config.user_id || a.toolkit != slug {
                        return Err(Error::validation(field, format!("{id} belongs to another user or toolkit")));
                    }
                }
                connected_accounts.insert(slug, ids);
            }
            config.connected_accounts = connected_accounts;
        }
        if let Some(search) = settings.search {
            config.search = search;
        }
        if let Some(execute) = settings.execute {
            config.execute = execute;
        }
        // Direct tools: `preload.tools` (Composio) or `direct_tools` (Grantline), checked against
        // the toolkits as they are now, also when only the toolkits changed.
        let (field, wanted) = match (settings.preload, ch.direct_tools) {
            (Some(_), Some(_)) => return Err(Error::validation("preload", "give preload.tools or direct_tools, not both")),
            (Some(p), None) => match p.tools {
                PreloadTools::List(list) => {
                    config.preload_all = false;
                    ("preload.tools", list)
                }
                PreloadTools::All(all) if all == "all" => {
                    config.preload_all = true;
                    ("preload.tools", vec![])
                }
                PreloadTools::All(other) => return Err(Error::validation("preload.tools", format!("expected a list of tool slugs or \"all\", got {other:?}"))),
            },
            (None, Some(list)) => {
                config.preload_all = false;
                ("direct_tools", list)
            }
            (None, None) => ("preload.tools", std::mem::take(&mut config.direct_tools)),
        };
        let wanted = match config.preload_all {
            true => self.catalog.tools().filter(|t| ToolkitsConfig::allows(config.toolkits.as_ref(), &t.toolkit)).map(|t| t.slug.clone()).collect(),
            false => wanted,
        };
        let mut direct_tools: Vec<String> = Vec::new();
        for (i, slug) in wanted.iter().enumerate() {
            let tool = self.tool_within(config.toolkits.as_ref(), &format!("{field}[{i}]"), slug)?;
            if !direct_tools.contains(&tool.slug) {
                direct_tools.push(tool.slug.clone());
            }
        }
        config.direct_tools = direct_tools;
        Ok(())
    }

    pub(crate) fn known_slug(&self, field: &str, slug: &str) -> Result<()> {
        if self.catalog.get(slug).is_some() {
            Ok(())
        } else {
            Err(Error::not_found("toolkit", format!("{slug} (in {field})")))
        }
    }

    fn known_slugs(&self, field: &str, slugs: Vec<String>) -> Result<Vec<String>> {
        if slugs.len() > MAX_TOOLKITS_LISTED {
            return Err(Error::validation(field, format!("at most {MAX_TOOLKITS_LISTED} toolkits")));
        }
        let mut out: Vec<String> = Vec::with_capacity(slugs.len());
        for s in slugs {
            let s = s.trim().to_ascii_lowercase();
            self.known_slug(field, &s)?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// `GET …/session/{id}/toolkits`: the session's toolkits with the user's connection state.
    pub async fn session_toolkits(
        &self,
        who: &Principal,
        session_id: &str,
        filter: ToolkitFilter,
        page: PageRequest,
    ) -> Result<Page<ToolkitItem>> {
        let session = self.load_session(who, session_id).await?;
        let cfg = &session.config;
        let wanted = self.known_slugs("toolkits", filter.toolkits)?;
        let accounts = self.store.user_accounts(&who.project.id, &cfg.user_id).await?;
        let search = filter.search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        let enabled_configs: std::collections::HashSet<String> =
            self.store.list_auth_configs(&who.project.id).await?.into_iter().filter(|c| !c.is_disabled).map(|c| c.toolkit).collect();

        let ordered: Vec<&crate::catalog::ToolkitDef> = match &cfg.toolkits {
            Some(ToolkitsConfig::Enabled { enabled }) => enabled.iter().filter_map(|s| self.catalog.get(s)).collect(),
            other => self.catalog.iter().filter(|t| ToolkitsConfig::allows(other.as_ref(), &t.slug)).collect(),
        };
        let items: Vec<ToolkitItem> = ordered
            .into_iter()
            .filter(|t| wanted.is_empty() || wanted.contains(&t.slug))
            .filter(|t| {
                search.as_ref().is_none_or(|q| {
                    t.slug.contains(q.as_str()) || t.name.to_lowercase().contains(q.as_str()) || t.description.to_lowercase().contains(q.as_str())
                })
            })
            .map(|t| ToolkitItem {
                slug: t.slug.clone(),
                name: t.name.clone(),
                meta: ToolkitMeta { description: t.description.clone(), logo: self.logo_url(t) },
                is_no_auth: t.is_no_auth(),
                enabled: self.can_connect(t, cfg, &enabled_configs),
                composio_managed_auth_schemes: vec![],
                connected_account: pick_account(cfg, &t.slug, &accounts).map(views::toolkit_account),
            })
            .filter(|i| filter.is_connected.is_none_or(|want| i.is_connected() == want))
            .collect();
        let total = items.len() as u64;
        let slice = items.into_iter().skip(page.offset() as usize).take(page.limit as usize).collect();
        Ok(page.page_of(slice, total))
    }
}

/// The 400 for an approval gate: accepting it would run tools without the approval asked for.
fn approval_refused(field: &str) -> Error {
    Error::validation(field, "Grantline has no approval flow yet: tools would run without the approval you ask for, so the session is refused")
}

/// Refuses the settings that ask for behaviour Grantline does not have, naming the field;
/// lets through the ones that state what it does anyway and the knobs of absent features.
fn refuse_unsupported_settings(s: &SessionSettings) -> Result<()> {
    use serde_json::Value;
    let refuse = |field: &str, why: &str| Err(Error::validation(field, why.to_string()));
    if s.tools.as_ref().is_some_and(|v| !is_empty_value(v)) {
        return refuse("tools", "per-tool selection is not supported: choose toolkits, and list tools with preload.tools");
    }
    if s.tags.as_ref().is_some_and(|v| !is_empty_value(v)) {
        return refuse("tags", "tool-hint tags are not supported");
    }
    if s.hooks.as_ref().is_some_and(|v| !is_empty_value(v)) {
        return refuse("hooks", "execution hooks are not supported");
    }
    if let Some(w) = &s.workbench {
        if w.enable == Some(true) {
            return refuse("workbench.enable", "Grantline has no code workbench; only enable: false is accepted");
        }
    }
    match &s.instant {
        None | Some(Value::Bool(false)) | Some(Value::Null) => {}
        Some(_) => return refuse("instant", "Grantline has no instant accounts; only false is accepted"),
    }
    match &s.premium_usage {
        None | Some(Value::Bool(false)) | Some(Value::Null) => {}
        Some(_) => return refuse("premium_usage", "Grantline has no premium tools; only false is accepted"),
    }
    match &s.proxy_execute {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            for (k, v) in p {
                match (k.as_str(), v) {
                    ("enable", Value::Bool(true)) => {}
                    ("enable", _) => return refuse("proxy_execute.enable", "proxy execution cannot be turned off per session yet; only true is accepted"),
                    (other, _) => return refuse(&format!("proxy_execute.{other}"), "unknown field"),
                }
            }
        }
        Some(_) => return refuse("proxy_execute", "expected an object ({\"enable\": true})"),
    }
    if let Some(m) = &s.multi_account {
        let obj = m.as_object().ok_or_else(|| Error::validation("multi_account", "expected an object"))?;
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("enable", Value::Bool(true)) | ("require_explicit_selection", Value::Bool(false)) => {}
                ("enable", _) => return refuse("multi_account.enable", "several accounts per toolkit are always allowed"),
                ("require_explicit_selection", _) => {
                    return refuse("multi_account.require_explicit_selection", "the newest active account is used unless the session pins one (connected_accounts)")
                }
                ("max_accounts_per_toolkit", _) => return refuse("multi_account.max_accounts_per_toolkit", "a per-toolkit account limit is not supported"),
                (other, _) => return refuse(&format!("multi_account.{other}"), "unknown field"),
            }
        }
    }
    if let Some(x) = &s.experimental {
        for (k, v) in x {
            match k.as_str() {
                // Grantline writes no assistive prompt and never asks the user for input.
                "assistive_prompt_config" | "no_elicitation_support_fallback" => {}
                "custom_tools" | "custom_toolkits" if is_empty_value(v) => {}
                "custom_tools" | "custom_toolkits" => return refuse(&format!("experimental.{k}"), "custom tools run in your process; Grantline does not host them"),
                "session_config_id" => return refuse("experimental.session_config_id", "saved session configs are not supported"),
                other => return refuse(&format!("experimental.{other}"), "unknown field"),
            }
        }
    }
    Ok(())
}
