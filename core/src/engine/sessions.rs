//! Sessions: creating them, and the toolkits they show with the user's connection state.

use std::collections::BTreeMap;

use super::store::{AccountRecord, SessionRecord};
use super::{clock, secrets, views, Engine, Principal};
use crate::model::{
    check_id, AccountStatus, CreateSessionRequest, ManageConnectionsConfig, ManageConnectionsInput, McpInfo, Page,
    PageRequest, SessionConfig, SessionInfo, ToolkitItem, ToolkitMeta, ToolkitsConfig, ToolkitsInput, ACCOUNT_PREFIX,
    AUTH_CONFIG_PREFIX, SESSION_PREFIX,
};
use crate::{Error, Result};

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

impl Engine {
    /// `POST /api/v3.1/tool_router/session`.
    pub async fn create_session(&self, who: &Principal, req: CreateSessionRequest) -> Result<SessionInfo> {
        who.require_project()?;
        let config = self.normalise_session(who, req).await?;
        let record = SessionRecord {
            id: secrets::new_id(SESSION_PREFIX)?,
            project_id: who.project.id.clone(),
            config,
            created_at: clock::now_ms(),
        };
        self.store.insert_session(&record).await?;
        Ok(self.session_info(&record))
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
            mcp: McpInfo { kind: "http".into(), url: self.config.url(&format!("/tool_router/{}/mcp", s.id)) },
            tool_router_tools: super::meta_tools::meta_tools(&s.config)
                .into_iter()
                .map(|t| t.slug)
                .chain(s.config.direct_tools.iter().cloned())
                .collect(),
            config: s.config.clone(),
            config_version: 1,
        }
    }

    /// Checks every field of a create request, naming the first bad one; writes nothing.
    async fn normalise_session(&self, who: &Principal, req: CreateSessionRequest) -> Result<SessionConfig> {
        let user_id = req.user_id.trim().to_string();
        if user_id.is_empty() || user_id.len() > MAX_USER_ID {
            return Err(Error::validation("user_id", format!("must be 1 to {MAX_USER_ID} characters")));
        }
        let toolkits = match req.toolkits {
            None => None,
            Some(ToolkitsInput::List(enabled)) | Some(ToolkitsInput::Enable { enable: enabled }) => {
                Some(ToolkitsConfig::Enabled { enabled: self.known_slugs("toolkits", enabled)? })
            }
            Some(ToolkitsInput::Disable { disable }) => {
                Some(ToolkitsConfig::Disabled { disabled: self.known_slugs("toolkits.disable", disable)? })
            }
        };
        let manage_connections = match req.manage_connections {
            None => ManageConnectionsConfig::default(),
            Some(ManageConnectionsInput::Flag(enabled)) => ManageConnectionsConfig { enabled, ..Default::default() },
            Some(ManageConnectionsInput::Options(o)) => {
                if let Some(cb) = &o.callback_url {
                    self.check_callback_url(who, "manage_connections.callback_url", cb)?;
                }
                ManageConnectionsConfig {
                    enabled: o.enable.unwrap_or(true),
                    callback_url: o.callback_url,
                    enable_wait_for_connections: o.enable_wait_for_connections.unwrap_or(false),
                }
            }
        };
        let mut auth_configs = BTreeMap::new();
        for (slug, id) in req.auth_configs {
            let field = format!("auth_configs.{slug}");
            self.known_slug(&field, &slug)?;
            check_id(&field, &id, AUTH_CONFIG_PREFIX)?;
            let ac = self.store.get_auth_config(&who.project.id, &id).await?.ok_or_else(|| Error::not_found("auth config", &id))?;
            if ac.toolkit != slug {
                return Err(Error::validation(field, format!("{id} is an auth config for {}, not {slug}", ac.toolkit)));
            }
            auth_configs.insert(slug, id);
        }
        let mut connected_accounts = BTreeMap::new();
        for (slug, ids) in req.connected_accounts {
            let field = format!("connected_accounts.{slug}");
            self.known_slug(&field, &slug)?;
            let ids = ids.into_vec();
            for id in &ids {
                check_id(&field, id, ACCOUNT_PREFIX)?;
                let a = self.store.get_account(&who.project.id, id).await?.ok_or_else(|| Error::not_found("connected account", id))?;
                if a.user_id != user_id || a.toolkit != slug {
                    return Err(Error::validation(field, format!("{id} belongs to another user or toolkit")));
                }
            }
            connected_accounts.insert(slug, ids);
        }
        let mut direct_tools: Vec<String> = Vec::new();
        for (i, slug) in req.direct_tools.iter().enumerate() {
            let tool = self.tool_within(toolkits.as_ref(), &format!("direct_tools[{i}]"), slug)?;
            if !direct_tools.contains(&tool.slug) {
                direct_tools.push(tool.slug.clone());
            }
        }
        Ok(SessionConfig { user_id, toolkits, manage_connections, auth_configs, connected_accounts, direct_tools })
    }

    pub(crate) fn known_slug(&self, field: &str, slug: &str) -> Result<()> {
        if self.catalog.get(slug).is_some() {
            Ok(())
        } else {
            Err(Error::not_found("toolkit", format!("{slug} (in {field})")))
        }
    }

    fn known_slugs(&self, field: &str, slugs: Vec<String>) -> Result<Vec<String>> {
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

/// The account a session uses for `slug`: a pinned one, else the newest ACTIVE, else the newest.
pub(crate) fn pick_account<'a>(cfg: &SessionConfig, slug: &str, accounts: &'a [AccountRecord]) -> Option<&'a AccountRecord> {
    if let Some(ids) = cfg.connected_accounts.get(slug) {
        if let Some(a) = ids.iter().find_map(|id| accounts.iter().find(|a| &a.id == id)) {
            return Some(a);
        }
    }
    let mine = || accounts.iter().filter(|a| a.toolkit == slug);
    mine().find(|a| a.status == AccountStatus::Active).or_else(|| mine().next())
}
