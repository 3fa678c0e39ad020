//! The meta tools an agent calls in chat, with Composio's slugs: manage connections,
//! search tools, get their schemas, run several, and wait for Connect Links.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::sessions::pick_account;
use super::store::{AccountRecord, SessionRecord};
use super::{search, secrets, Engine, Principal};
use crate::catalog::ToolDef;
use crate::model::{
    AccountStatus, ExecuteMetaRequest, ExecuteMetaResponse, LinkRequest, Page, SearchHit, SearchRequest, SearchResponse,
    SessionConfig, ToolInfo, ToolInfoToolkit, GET_TOOL_SCHEMAS, MANAGE_CONNECTIONS, MULTI_EXECUTE_TOOL, SEARCH_TOOLS,
    WAIT_FOR_CONNECTIONS,
};
use crate::{Error, Result};

/// What a tool call gave, for a protocol that separates results from errors (MCP).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallOutcome {
    /// The tool's output.
    pub output: Value,
    /// True when the model should read it as a failure (e.g. not connected).
    pub is_error: bool,
}

/// Most tools one MULTI_EXECUTE call may run.
const MAX_MULTI: usize = 20;
/// Results per search query unless asked otherwise.
const DEFAULT_HITS: u32 = 10;
/// How long WAIT_FOR_CONNECTIONS waits unless asked otherwise.
const DEFAULT_WAIT_SECS: u64 = 60;

impl Engine {
    /// `GET …/session/{id}/tools`: the session's meta tools, then its direct tools.
    pub async fn session_tools(&self, who: &Principal, session_id: &str) -> Result<Page<ToolInfo>> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        let mut tools = meta_tools(&session.config);
        tools.extend(session.config.direct_tools.iter().filter_map(|slug| self.catalog.tool(slug)).map(|t| self.tool_info(t)));
        let n = tools.len() as u64;
        Ok(Page { items: tools, next_cursor: None, total_pages: 1, current_page: 1, total_items: n })
    }

    /// Runs any tool the session lists (a meta tool or a direct tool), as an MCP
    /// `tools/call` does: the tool's output, and whether it is an error for the model.
    pub async fn call_session_tool(&self, who: &Principal, session_id: &str, slug: &str, arguments: Map<String, Value>) -> Result<ToolCallOutcome> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        if session.config.direct_tools.iter().any(|t| t == slug) {
            let r = self.run_tool(who, &session, slug, &arguments, None).await?;
            let is_error = !r.successful;
            return Ok(ToolCallOutcome { output: json!({"data": r.data, "error": r.error, "successful": r.successful, "log_id": r.log_id}), is_error });
        }
        let output = self.run_meta(who, &session, &ExecuteMetaRequest { slug: slug.to_string(), arguments }).await?;
        Ok(ToolCallOutcome { output, is_error: false })
    }

    /// `POST …/session/{id}/search`: the session's toolkit tools ranked for a use case.
    pub async fn search_tools(&self, who: &Principal, session_id: &str, req: SearchRequest) -> Result<SearchResponse> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        if req.query.trim().is_empty() {
            return Err(Error::validation("query", "must describe what the agent wants to do"));
        }
        let limit = match req.limit {
            None => DEFAULT_HITS,
            Some(n @ 1..=100) => n,
            Some(_) => return Err(Error::validation("limit", "must be 1 to 100")),
        };
        let toolkits: Vec<String> = req.toolkits.iter().map(|t| t.trim().to_ascii_lowercase()).collect();
        for t in &toolkits {
            self.known_slug("toolkits", t)?;
        }
        let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
        Ok(SearchResponse { items: self.search_hits(&session, &accounts, &req.query, &toolkits, limit as usize) })
    }

    /// The session's tools ranked for `query`, marked connected by the user's `accounts`.
    fn search_hits(&self, session: &SessionRecord, accounts: &[AccountRecord], query: &str, toolkits: &[String], limit: usize) -> Vec<SearchHit> {
        let candidates: Vec<&ToolDef> =
            self.session_tool_defs(session).filter(|t| toolkits.is_empty() || toolkits.contains(&t.toolkit)).collect();
        let name = |slug: &str| self.catalog.get(slug).map(|t| t.name.clone()).unwrap_or_default();
        search::rank(query, &candidates, name)
            .into_iter()
            .take(limit)
            .map(|(t, score)| SearchHit {
                tool: self.tool_info(t),
                score: (score * 1000.0).round() / 1000.0,
                is_connected: self.catalog.get(&t.toolkit).is_some_and(|d| d.is_no_auth())
                    || pick_account(&session.config, &t.toolkit, accounts).is_some_and(|a| a.status == AccountStatus::Active),
            })
            .collect()
    }

    /// `POST …/session/{id}/execute_meta`: runs a meta tool for the agent.
    pub async fn execute_meta(&self, who: &Principal, session_id: &str, req: ExecuteMetaRequest) -> Result<ExecuteMetaResponse> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        let data = self.run_meta(who, &session, &req).await?;
        Ok(ExecuteMetaResponse { data, error: None, log_id: secrets::new_id("log_")? })
    }

    /// Runs a meta tool the session offers; a tool it does not offer is a 400 naming `slug`.
    async fn run_meta(&self, who: &Principal, session: &SessionRecord, req: &ExecuteMetaRequest) -> Result<Value> {
        let offered = meta_tools(&session.config);
        if !offered.iter().any(|t| t.slug == req.slug) {
            let why = match req.slug.as_str() {
                MANAGE_CONNECTIONS => format!("{MANAGE_CONNECTIONS} is off in this session (manage_connections: false); connect with …/link instead"),
                WAIT_FOR_CONNECTIONS => format!("{WAIT_FOR_CONNECTIONS} is off in this session (manage_connections.enable_wait_for_connections)"),
                other => {
                    let names: Vec<&str> = offered.iter().map(|t| t.slug.as_str()).collect();
                    format!("unknown meta tool {other:?}; this session offers {}", names.join(", "))
                }
            };
            return Err(Error::validation("slug", why));
        }
        let args = &req.arguments;
        match req.slug.as_str() {
            MANAGE_CONNECTIONS => self.manage_connections(who, session, args).await,
            SEARCH_TOOLS => self.meta_search(who, session, args).await,
            GET_TOOL_SCHEMAS => self.tool_schemas(session, args),
            MULTI_EXECUTE_TOOL => self.multi_execute(who, session, args).await,
            WAIT_FOR_CONNECTIONS => self.wait_for_connections(who, session, args).await,
            other => Err(Error::Internal(format!("meta tool {other} offered but not run"))),
        }
    }

    async fn manage_connections(&self, who: &Principal, session: &SessionRecord, args: &Map<String, Value>) -> Result<Value> {
        check_keys(args, &["toolkits", "reinitiate_all"], &[])?;
        let slugs = toolkit_list(args)?;
        let reinitiate = optional_bool(args, "reinitiate_all")?;
        let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
        let mut results = Map::new();
        let (mut active, mut initiated, mut failed) = (0, 0, 0);
        for slug in slugs {
            let current = pick_account(&session.config, &slug, &accounts).filter(|a| a.status == AccountStatus::Active);
            let no_auth = self.catalog.get(&slug).is_some_and(|t| t.is_no_auth());
            let entry = match current {
                _ if no_auth => {
                    active += 1;
                    json!({"toolkit": slug, "status": "active", "instruction": format!("{slug} needs no connection; go ahead with the task.")})
                }
                Some(a) if !reinitiate => {
                    active += 1;
                    json!({"toolkit": slug, "status": "active", "connected_account_id": a.id,
                           "instruction": format!("{slug} is connected; go ahead with the task.")})
                }
                _ => {
                    let link = LinkRequest { toolkit: slug.clone(), callback_url: session.config.manage_connections.callback_url.clone(), alias: None };
                    match self.create_link_for(who, session, link).await {
                        Ok(l) => {
                            initiated += 1;
                            json!({"toolkit": slug, "status": "initiated", "redirect_url": l.redirect_url,
                                   "connected_account_id": l.connected_account_id,
                                   "instruction": format!("Share this link with the user to connect {slug}: {}. Retry the task once they confirm.", l.redirect_url)})
                        }
                        Err(e) => {
                            failed += 1;
                            json!({"toolkit": slug, "status": "failed", "error": e.to_string(), "code": e.code()})
                        }
                    }
                }
            };
            results.insert(slug, entry);
        }
        let summary = format!("{active} active, {initiated} waiting for the user, {failed} failed");
        Ok(json!({"results": results, "summary": summary}))
    }

    async fn meta_search(&self, who: &Principal, session: &SessionRecord, args: &Map<String, Value>) -> Result<Value> {
        check_keys(args, &["queries", "use_case", "toolkits"], &["session", "known_fields"])?;
        let use_cases: Vec<String> = match (args.get("queries"), args.get("use_case")) {
            (Some(Value::Array(qs)), _) if !qs.is_empty() => qs
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    q.get("use_case")
                        .or(Some(q))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| Error::validation(format!("arguments.queries[{i}].use_case"), "must be a string"))
                })
                .collect::<Result<_>>()?,
            (None, Some(Value::String(u))) if !u.trim().is_empty() => vec![u.clone()],
            _ => return Err(Error::validation("arguments.queries", "give queries: [{\"use_case\": \"…\"}] (or use_case: \"…\")")),
        };
        let toolkits = match args.get("toolkits") {
            None => vec![],
            Some(_) => toolkit_list(args)?,
        };
        let mut results = Vec::new();
        let mut schemas = Map::new();
        let mut statuses = Map::new();
        let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
        for use_case in use_cases {
            let hits = self.search_hits(session, &accounts, &use_case, &toolkits, 5);
            for h in &hits {
                schemas.insert(h.tool.slug.clone(), schema_entry(&h.tool));
                let next = if h.is_connected {
                    "connected".to_string()
                } else {
                    format!("not connected: call {MANAGE_CONNECTIONS} with {{\"toolkits\": [\"{}\"]}} first", h.tool.toolkit.slug)
                };
                statuses.insert(h.tool.toolkit.slug.clone(), json!({"has_active_connection": h.is_connected, "status_message": next}));
            }
            let slugs: Vec<&str> = hits.iter().map(|h| h.tool.slug.as_str()).collect();
            results.push(json!({
                "use_case": use_case,
                "primary_tool_slugs": slugs.iter().take(1).collect::<Vec<_>>(),
                "related_tool_slugs": slugs.iter().skip(1).collect::<Vec<_>>(),
                "toolkits": hits.iter().map(|h| h.tool.toolkit.slug.clone()).collect::<std::collections::BTreeSet<_>>(),
            }));
        }
        let next = format!("Run the tools with {MULTI_EXECUTE_TOOL} using the schemas above; connect toolkits that are not connected with {MANAGE_CONNECTIONS} first.");
        Ok(json!({"results": results, "tool_schemas": schemas, "toolkit_connection_statuses": statuses, "next_steps_guidance": next}))
    }

    fn tool_schemas(&self, session: &SessionRecord, args: &Map<String, Value>) -> Result<Value> {
        check_keys(args, &["tool_slugs"], &["session"])?;
        let slugs = match args.get("tool_slugs") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => return Err(Error::validation("arguments.tool_slugs", "must be a non-empty list of tool slugs")),
        };
        let mut schemas = Map::new();
        let mut not_found = Vec::new();
        for (i, s) in slugs.iter().enumerate() {
            let slug = s.as_str().ok_or_else(|| Error::validation(format!("arguments.tool_slugs[{i}]"), "must be a string"))?;
            match self.session_tool(session, "tool_slugs", slug) {
                Ok(t) => {
                    schemas.insert(t.slug.clone(), schema_entry(&self.tool_info(t)));
                }
                Err(_) => not_found.push(slug.to_string()),
            }
        }
        Ok(json!({"tool_schemas": schemas, "not_found": not_found}))
    }

    async fn multi_execute(&self, who: &Principal, session: &SessionRecord, args: &Map<String, Value>) -> Result<Value> {
        check_keys(args, &["tools"], &["thought", "sync_response_to_workbench", "memory", "current_step", "current_step_metric", "session"])?;
        let calls = match args.get("tools") {
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_MULTI => a,
            _ => return Err(Error::validation("arguments.tools", format!("must be a list of 1 to {MAX_MULTI} {{tool_slug, arguments}}"))),
        };
        let runs = calls.iter().enumerate().map(|(i, call)| async move {
            let slug = call.get("tool_slug").and_then(Value::as_str).unwrap_or_default().to_string();
            let outcome = match (slug.is_empty(), call.get("arguments").unwrap_or(&Value::Null)) {
                (true, _) => Err(Error::validation(format!("arguments.tools[{i}].tool_slug"), "is required")),
                (false, Value::Object(a)) => self.run_tool(who, session, &slug, a, None).await,
                (false, Value::Null) => self.run_tool(who, session, &slug, &Map::new(), None).await,
                (false, _) => Err(Error::validation(format!("arguments.tools[{i}].arguments"), "must be an object")),
            };
            match outcome {
                Ok(r) => json!({"tool_slug": slug, "successful": r.successful, "data": r.data, "error": r.error, "log_id": r.log_id}),
                Err(e) => json!({"tool_slug": slug, "successful": false, "data": null, "error": e.to_string(), "code": e.code()}),
            }
        });
        let results: Vec<Value> = futures_util::future::join_all(runs).await;
        let ok = results.iter().filter(|r| r["successful"] == true).count();
        Ok(json!({"results": results, "summary": format!("{ok} of {} succeeded", results.len())}))
    }

    async fn wait_for_connections(&self, who: &Principal, session: &SessionRecord, args: &Map<String, Value>) -> Result<Value> {
        check_keys(args, &["toolkits", "timeout_seconds"], &[])?;
        let slugs = toolkit_list(args)?;
        let secs = match args.get("timeout_seconds") {
            None | Some(Value::Null) => DEFAULT_WAIT_SECS,
            Some(v) => v.as_u64().filter(|s| (1..=600).contains(s)).ok_or_else(|| Error::validation("arguments.timeout_seconds", "must be 1 to 600"))?,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs).min(self.config.max_wait);
        let mut changes = self.notifier.subscribe();
        loop {
            self.expire_due().await?;
            let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
            let mut statuses = Map::new();
            let mut pending = 0;
            for slug in &slugs {
                let a = pick_account(&session.config, slug, &accounts);
                let status = match a.map(|a| a.status) {
                    Some(AccountStatus::Active) => "active",
                    Some(s) if s.is_pending() => {
                        pending += 1;
                        "initiated"
                    }
                    Some(_) => "failed",
                    None => "not_connected",
                };
                statuses.insert(slug.clone(), json!({"status": status, "connected_account_id": a.map(|a| a.id.clone())}));
            }
            let timed_out = tokio::time::Instant::now() >= deadline;
            if pending == 0 || timed_out {
                let summary = if pending == 0 { "no connection is waiting for the user".to_string() } else { format!("{pending} still waiting for the user") };
                return Ok(json!({"results": statuses, "summary": summary, "timed_out": pending > 0}));
            }
            tokio::select! {
                r = changes.recv() => {
                    if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        tokio::time::sleep_until(deadline).await;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {}
                // Links expire on their own clock; look again now and then.
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }
}

/// Refuses arguments the tool does not take; `ignored` are Composio fields accepted and unused.
fn check_keys(args: &Map<String, Value>, known: &[&str], ignored: &[&str]) -> Result<()> {
    match args.keys().find(|k| !known.contains(&k.as_str()) && !ignored.contains(&k.as_str())) {
        Some(k) => Err(Error::validation(format!("arguments.{k}"), format!("unknown argument (this tool takes {})", known.join(", ")))),
        None => Ok(()),
    }
}

fn toolkit_list(args: &Map<String, Value>) -> Result<Vec<String>> {
    match args.get("toolkits") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_ascii_lowercase()).ok_or_else(|| Error::validation("arguments.toolkits", "must be a list of toolkit slugs")))
            .collect(),
        _ => Err(Error::validation("arguments.toolkits", "must be a non-empty list of toolkit slugs")),
    }
}

fn optional_bool(args: &Map<String, Value>, key: &str) -> Result<bool> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::validation(format!("arguments.{key}"), "must be a boolean")),
    }
}

fn schema_entry(t: &ToolInfo) -> Value {
    json!({"tool_slug": t.slug, "toolkit": t.toolkit.slug, "description": t.description, "input_schema": t.input_parameters})
}

fn meta(slug: &str, name: &str, description: &str, input: Value) -> ToolInfo {
    ToolInfo {
        slug: slug.into(),
        name: name.into(),
        description: description.into(),
        input_parameters: input,
        no_auth: true,
        toolkit: ToolInfoToolkit { slug: "composio".into(), name: "Composio".into() },
    }
}

/// The meta tools a session's configuration offers.
pub(crate) fn meta_tools(cfg: &SessionConfig) -> Vec<ToolInfo> {
    let toolkits = json!({"type": "array", "items": {"type": "string"}, "description": "Toolkit slugs, e.g. [\"github\"]"});
    let mut tools = vec![];
    if cfg.search.enable {
        tools.push(meta(
            SEARCH_TOOLS,
            "Search tools",
            "Finds the tools that fit a task among the session's toolkits. Returns the best tool slugs per use case, \
             their input schemas, and whether each toolkit is connected. Call it first when you do not know which tool to use.",
            json!({"type": "object", "properties": {
                "queries": {"type": "array", "description": "One entry per task",
                            "items": {"type": "object", "properties": {"use_case": {"type": "string", "description": "The task in plain words"}}, "required": ["use_case"]}},
                "toolkits": toolkits.clone()
            }, "required": ["queries"]}),
        ));
        tools.push(meta(
            GET_TOOL_SCHEMAS,
            "Get tool schemas",
            "Returns the input schema of each named tool, to call it with the right arguments.",
            json!({"type": "object", "properties": {"tool_slugs": {"type": "array", "items": {"type": "string"}}}, "required": ["tool_slugs"]}),
        ));
    }
    if cfg.execute.enable_multi_execute {
        tools.push(meta(
            MULTI_EXECUTE_TOOL,
            "Execute tools",
            "Runs one or more tools (at most 20, in parallel) as the user and returns each result. A tool whose toolkit is not \
             connected answers with the next step: call COMPOSIO_MANAGE_CONNECTIONS.",
            json!({"type": "object", "properties": {
                "tools": {"type": "array", "items": {"type": "object", "properties": {
                    "tool_slug": {"type": "string"}, "arguments": {"type": "object"}}, "required": ["tool_slug", "arguments"]}},
                "thought": {"type": "string", "description": "Why these calls (optional)"}
            }, "required": ["tools"]}),
        ));
    }
    if cfg.manage_connections.enabled {
        tools.insert(
            0,
            meta(
                MANAGE_CONNECTIONS,
                "Manage connections",
                "Check whether the user's accounts for the given toolkits are connected; for each one that is not, \
                 returns a Connect Link (redirect_url) to show the user. Call it when a tool fails because an account \
                 is not connected, then retry the task after the user confirms.",
                json!({"type": "object", "properties": {
                    "toolkits": toolkits.clone(),
                    "reinitiate_all": {"type": "boolean", "default": false, "description": "Start a new connection even when one is active"}
                }, "required": ["toolkits"]}),
            ),
        );
        if cfg.manage_connections.enable_wait_for_connections {
            tools.push(meta(
                WAIT_FOR_CONNECTIONS,
                "Wait for connections",
                "Waits until the user finishes the Connect Links of the given toolkits (or the timeout passes) and reports each one's status.",
                json!({"type": "object", "properties": {
                    "toolkits": toolkits,
                    "timeout_seconds": {"type": "integer", "default": DEFAULT_WAIT_SECS, "description": "Longest wait (1 to 600)"}
                }, "required": ["toolkits"]}),
            ));
        }
    }
    tools
}
