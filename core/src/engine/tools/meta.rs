//! The meta tools an agent calls in chat, with Composio's slugs: manage connections,
//! search tools, get their schemas, run several, and wait for Connect Links.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::engine::accounts::{pick_account, Look};
use crate::engine::notifier::WatchKey;
use crate::engine::store::{AccountRecord, SessionRecord};
use super::run::{refuse_interaction, AccountChoice};
use super::search;
use crate::engine::{clock, secrets, Engine, Principal};
use crate::catalog::ToolDef;
use crate::model::{
    AccountStatus, ExecuteMetaRequest, ExecuteMetaResponse, LinkRequest, Page, PageRequest, ResultType, SearchQuery, SearchRequest,
    SearchResponse, SearchResult, SearchSession, SearchStatusAccount, SearchToolSchema, SessionConfig, TimeInfo, ToolInfo,
    ToolInfoToolkit, ToolkitConnectionStatus, GET_TOOL_SCHEMAS, MANAGE_CONNECTIONS, MULTI_EXECUTE_TOOL, SEARCH_TOOLS,
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
/// Tools per use case a search gives unless asked otherwise.
const DEFAULT_HITS: u32 = 5;
/// Most use cases one search takes.
const MAX_QUERIES: usize = 20;
/// Longest use case, in characters (Composio's limit).
const MAX_USE_CASE_CHARS: usize = 1024;
/// Longest `known_fields`, in characters (Composio's limit).
const MAX_KNOWN_FIELDS_CHARS: usize = 500;
/// Largest page of `GET …/tools` (Composio's limit; its SDKs ask for 500).
pub const MAX_TOOLS_PAGE: u32 = 500;
/// How long WAIT_FOR_CONNECTIONS waits unless asked otherwise.
const DEFAULT_WAIT_SECS: u64 = 60;

/// True for a meta tool's slug (`COMPOSIO_…`, any case): `…/execute` runs those as
/// `…/execute_meta` does, and never as a toolkit tool.
pub(crate) fn is_meta_slug(slug: &str) -> bool {
    slug.trim().to_ascii_uppercase().starts_with("COMPOSIO_")
}

impl Engine {
    /// `GET …/session/{id}/tools`: one page of the session's meta tools, then its direct tools.
    pub async fn session_tools(&self, who: &Principal, session_id: &str, page: PageRequest) -> Result<Page<ToolInfo>> {
        Ok(page.slice(self.session_tool_list(who, session_id).await?))
    }

    /// Every tool the session lists (meta tools, then direct tools), as MCP's `tools/list` gives them.
    pub async fn session_tool_list(&self, who: &Principal, session_id: &str) -> Result<Vec<ToolInfo>> {
        who.require_tools()?;
        let session = self.load_session(who, session_id).await?;
        let mut tools = meta_tools(&session.config);
        tools.extend(session.config.direct_tools.iter().filter_map(|slug| self.catalog.tool(slug)).map(|t| self.tool_info(t)));
        Ok(tools)
    }

    /// Runs any tool the session lists (a meta tool or a direct tool), as an MCP
    /// `tools/call` does: the tool's output, and whether it is an error for the model.
    pub async fn call_session_tool(&self, who: &Principal, session_id: &str, slug: &str, arguments: Map<String, Value>) -> Result<ToolCallOutcome> {
        who.require_tools()?;
        let session = self.load_session(who, session_id).await?;
        if session.config.direct_tools.iter().any(|t| t == slug) {
            let r = self.run_tool(who, &session, slug, &arguments, None).await?;
            let is_error = !r.successful;
            return Ok(ToolCallOutcome { output: json!({"data": r.data, "error": r.error, "successful": r.successful, "log_id": r.log_id}), is_error });
        }
        // Logged as `…/execute_meta` logs it, so a tool an MCP client ran shows in the logs too.
        let started = super::Execution::start(&session, &secrets::new_id("log_")?, super::META_TOOLKIT, Some(&slug.trim().to_ascii_uppercase()));
        let output = self.run_meta(who, &session, "slug", slug, &arguments).await?;
        self.record_execution(started).await;
        Ok(ToolCallOutcome { output, is_error: false })
    }

    /// `POST …/session/{id}/search`: the session's toolkit tools ranked for each use case,
    /// in Composio's shape (the same answer as `COMPOSIO_SEARCH_TOOLS`).
    pub async fn search_tools(&self, who: &Principal, session_id: &str, req: SearchRequest) -> Result<SearchResponse> {
        who.require_project()?;
        refuse_interaction(None, None, req.experimental.as_ref())?;
        let session = self.load_session(who, session_id).await?;
        self.search_answer(who, &session, &req, "").await
    }

    /// The one search: checks `req` (errors name `prefix` + the field), ranks the session's
    /// tools for each use case (its `known_fields` ranked with it), and says for each toolkit
    /// found whether the user can run its tools now. `model` and `search_strategy` tune
    /// nothing here (one BM25 ranking).
    async fn search_answer(&self, who: &Principal, session: &SessionRecord, req: &SearchRequest, prefix: &str) -> Result<SearchResponse> {
        let field = |f: &str| format!("{prefix}{f}");
        if req.queries.is_empty() || req.queries.len() > MAX_QUERIES {
            return Err(Error::validation(field("queries"), format!("give 1 to {MAX_QUERIES} queries: [{{\"use_case\": \"…\"}}]")));
        }
        for (i, q) in req.queries.iter().enumerate() {
            if q.use_case.trim().is_empty() || q.use_case.chars().count() > MAX_USE_CASE_CHARS {
                return Err(Error::validation(
                    field(&format!("queries[{i}].use_case")),
                    format!("must describe the task in 1 to {MAX_USE_CASE_CHARS} characters"),
                ));
            }
            if q.known_fields.as_ref().is_some_and(|k| k.chars().count() > MAX_KNOWN_FIELDS_CHARS) {
                return Err(Error::validation(field(&format!("queries[{i}].known_fields")), format!("at most {MAX_KNOWN_FIELDS_CHARS} characters")));
            }
        }
        let limit = match req.limit {
            None => DEFAULT_HITS,
            Some(n @ 1..=100) => n,
            Some(_) => return Err(Error::validation(field("limit"), "must be 1 to 100")),
        };
        if let Some(s) = req.search_strategy.as_deref().filter(|s| !matches!(*s, "auto" | "tool_search")) {
            return Err(Error::validation(field("search_strategy"), format!("{s:?} is not auto or tool_search")));
        }
        let mut toolkits: Vec<String> = Vec::new();
        for (i, t) in req.toolkits.iter().enumerate() {
            let t = t.trim().to_ascii_lowercase();
            self.known_slug(&field(&format!("toolkits[{i}]")), &t)?;
            toolkits.push(t);
        }
        let candidates: Vec<&ToolDef> =
            self.session_tool_defs(session).filter(|t| toolkits.is_empty() || toolkits.contains(&t.toolkit)).collect();
        let name = |slug: &str| self.catalog.get(slug).map(|t| t.name.clone()).unwrap_or_default();

        let mut results = Vec::new();
        let mut tool_schemas = BTreeMap::new();
        let mut found_toolkits: Vec<String> = Vec::new();
        for (i, q) in req.queries.iter().enumerate() {
            let text = match &q.known_fields {
                Some(k) => format!("{} {k}", q.use_case),
                None => q.use_case.clone(),
            };
            let ranked: Vec<(&ToolDef, f64)> = search::rank(&text, &candidates, name).into_iter().take(limit as usize).collect();
            let mut kits: Vec<String> = Vec::new();
            for (t, _) in &ranked {
                tool_schemas.entry(t.slug.clone()).or_insert_with(|| self.tool_schema(t));
                if !kits.contains(&t.toolkit) {
                    kits.push(t.toolkit.clone());
                }
                if !found_toolkits.contains(&t.toolkit) {
                    found_toolkits.push(t.toolkit.clone());
                }
            }
            let slugs: Vec<String> = ranked.iter().map(|(t, _)| t.slug.clone()).collect();
            results.push(SearchResult {
                index: i as u32 + 1,
                use_case: q.use_case.clone(),
                primary_tool_slugs: slugs.iter().take(1).cloned().collect(),
                related_tool_slugs: slugs.iter().skip(1).cloned().collect(),
                toolkits: kits,
                scores: ranked.iter().map(|(t, s)| (t.slug.clone(), (s * 1000.0).round() / 1000.0)).collect(),
            });
        }

        let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
        let statuses: Vec<ToolkitConnectionStatus> = found_toolkits.iter().map(|t| self.connection_status(session, &accounts, t)).collect();
        let manage = session.config.manage_connections.enabled;
        let mut next_steps = Vec::new();
        if tool_schemas.is_empty() {
            next_steps.push("No tool matched: describe the task with other words, or name the app it is in.".to_string());
        } else {
            let run = if session.config.execute.enable_multi_execute { MULTI_EXECUTE_TOOL } else { "the session's execute endpoint" };
            next_steps.push(format!("Pick the tools from primary_tool_slugs (related_tool_slugs may help) and run them with {run}, arguments as in tool_schemas."));
        }
        let missing: Vec<&str> = statuses.iter().filter(|s| !s.has_active_connection).map(|s| s.toolkit.as_str()).collect();
        if !missing.is_empty() {
            next_steps.push(if manage {
                format!("Not connected yet: {}. Call {MANAGE_CONNECTIONS} with {{\"toolkits\": {}}} first and show the user the redirect_url it returns.", missing.join(", "), json!(missing))
            } else {
                format!("Not connected yet: {}. Ask the user to connect them in the app, then retry.", missing.join(", "))
            });
        }
        let now = clock::now_ms();
        Ok(SearchResponse {
            success: true,
            error: None,
            results,
            tool_schemas,
            toolkit_connection_statuses: statuses,
            next_steps_guidance: next_steps,
            session: SearchSession {
                id: session.id.clone(),
                generate_id: false,
                instructions: "This search ran in the session of the URL; keep calling tools in that session.".to_string(),
            },
            time_info: TimeInfo {
                current_time_utc: clock::rfc3339(now),
                current_time_utc_epoch_seconds: now.div_euclid(1000),
                message: "Times are UTC; convert to the user's time zone when the task names one.".to_string(),
            },
        })
    }

    /// A tool's schema as search and `COMPOSIO_GET_TOOL_SCHEMAS` give it.
    fn tool_schema(&self, t: &ToolDef) -> SearchToolSchema {
        SearchToolSchema {
            tool_slug: t.slug.clone(),
            toolkit: t.toolkit.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            input_schema: t.input_schema(),
            has_full_schema: true,
        }
    }

    /// Whether the user can run `toolkit`'s tools in this session now, and what to do if not.
    fn connection_status(&self, session: &SessionRecord, accounts: &[AccountRecord], toolkit: &str) -> ToolkitConnectionStatus {
        let def = self.catalog.get(toolkit);
        let description = def.map(|d| d.description.clone()).unwrap_or_default();
        let picked = pick_account(&session.config, toolkit, accounts).filter(|a| a.status == AccountStatus::Active);
        let active: Vec<SearchStatusAccount> = accounts
            .iter()
            .filter(|a| a.toolkit == toolkit && a.status == AccountStatus::Active)
            .map(|a| SearchStatusAccount {
                id: a.id.clone(),
                alias: a.alias.clone(),
                status: "active".into(),
                is_default: picked.is_some_and(|p| p.id == a.id),
                created_at: clock::rfc3339(a.created_at),
                account_type: "PRIVATE".into(),
            })
            .collect();
        let (has_active_connection, status_message) = if def.is_some_and(|d| d.is_no_auth()) {
            (true, format!("{toolkit} needs no connection; its tools run as they are."))
        } else if let Some(a) = picked {
            let others = if active.len() > 1 { " Another of the user's accounts can be named with account (its id or alias)." } else { "" };
            (true, format!("Connected ({}); its tools run as this account.{others}", a.id))
        } else if session.config.manage_connections.enabled {
            (false, format!("Not connected: call {MANAGE_CONNECTIONS} with {{\"toolkits\": [\"{toolkit}\"]}} first."))
        } else {
            (false, format!("Not connected: ask the user to connect {toolkit} in the app."))
        };
        ToolkitConnectionStatus { toolkit: toolkit.to_string(), description, has_active_connection, status_message, accounts: active }
    }

    /// `POST …/session/{id}/execute_meta`: runs a meta tool for the agent.
    pub async fn execute_meta(&self, who: &Principal, session_id: &str, req: ExecuteMetaRequest) -> Result<ExecuteMetaResponse> {
        who.require_project()?;
        refuse_interaction(req.input_responses.as_ref(), req.request_state.as_ref(), req.experimental.as_ref())?;
        let session = self.load_session(who, session_id).await?;
        let started = super::Execution::start(&session, &secrets::new_id("log_")?, super::META_TOOLKIT, Some(&req.slug.trim().to_ascii_uppercase()));
        let data = self.run_meta(who, &session, "slug", &req.slug, &req.arguments).await?;
        let log_id = started.log_id().to_string();
        self.record_execution(started).await;
        Ok(ExecuteMetaResponse { data, error: None, log_id, result_type: ResultType::Completed })
    }

    /// Runs a meta tool the session offers; a tool it does not offer is a 400 naming `field`.
    pub(crate) async fn run_meta(&self, who: &Principal, session: &SessionRecord, field: &str, slug: &str, args: &Map<String, Value>) -> Result<Value> {
        let slug = slug.trim().to_ascii_uppercase();
        let offered = meta_tools(&session.config);
        if !offered.iter().any(|t| t.slug == slug) {
            let why = match slug.as_str() {
                MANAGE_CONNECTIONS => format!("{MANAGE_CONNECTIONS} is off in this session (manage_connections: false); connect with …/link instead"),
                WAIT_FOR_CONNECTIONS => format!("{WAIT_FOR_CONNECTIONS} is off in this session (manage_connections.enable_wait_for_connections)"),
                other => {
                    let names: Vec<&str> = offered.iter().map(|t| t.slug.as_str()).collect();
                    format!("unknown meta tool {other:?}; this session offers {}", names.join(", "))
                }
            };
            return Err(Error::validation(field, why));
        }
        match slug.as_str() {
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
                            json!({"toolkit": slug, "status": "failed", "error": super::run::agent_error_text(&e), "code": e.code()})
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
        let req = search_arguments(args)?;
        let answer = self.search_answer(who, session, &req, "arguments.").await?;
        serde_json::to_value(answer).map_err(|e| Error::Internal(format!("search answer: {e}")))
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
                    let schema = serde_json::to_value(self.tool_schema(t)).map_err(|e| Error::Internal(format!("tool schema: {e}")))?;
                    schemas.insert(t.slug.clone(), schema);
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
            let outcome = async {
                let at = |k: &str| format!("arguments.tools[{i}].{k}");
                if let Some(k) = call.as_object().and_then(|c| c.keys().find(|k| !["tool_slug", "arguments", "account"].contains(&k.as_str()))) {
                    return Err(Error::validation(at(k), "unknown key (a call takes tool_slug, arguments, account)"));
                }
                if slug.is_empty() {
                    return Err(Error::validation(at("tool_slug"), "is required"));
                }
                let account = match call.get("account") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(a)) => Some(AccountChoice::id_or_alias(at("account"), a)),
                    Some(_) => return Err(Error::validation(at("account"), "must be a connected account id (ca_…) or its alias")),
                };
                let empty = Map::new();
                let arguments = match call.get("arguments") {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(a)) => a,
                    Some(_) => return Err(Error::validation(at("arguments"), "must be an object")),
                };
                self.run_tool(who, session, &slug, arguments, account.as_ref()).await
            };
            match outcome.await {
                Ok(r) => json!({"tool_slug": slug, "successful": r.successful, "data": r.data, "error": r.error, "log_id": r.log_id}),
                Err(e) => json!({"tool_slug": slug, "successful": false, "data": {}, "error": super::run::agent_error_text(&e), "code": e.code(),
                                 "retry_after": e.retry_after()}),
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
        let asked = Duration::from_secs(secs);
        let granted = asked.min(self.config.max_wait);
        let key = WatchKey::User { project_id: who.project.id.clone(), user_id: session.config.user_id.clone() };
        let look = || async {
            let accounts = self.store.user_accounts(&who.project.id, &session.config.user_id).await?;
            let mut statuses = Map::new();
            let (mut pending, mut look_again_at) = (0, None::<i64>);
            for slug in &slugs {
                let mut picked = pick_account(&session.config, slug, &accounts).cloned();
                if let Some(a) = picked.take() {
                    // A link that ran out is EXPIRED now, not at the sweeper's next round.
                    let request = match a.status.is_pending() {
                        true => self.store.request_by_account(&a.project_id, &a.id).await?,
                        false => None,
                    };
                    let a = self.expire_if_due(a, request.as_ref()).await?;
                    if a.status.is_pending() {
                        if let Some(at) = request.map(|r| r.expires_at) {
                            look_again_at = Some(look_again_at.map_or(at, |t| t.min(at)));
                        }
                    }
                    picked = Some(a);
                }
                let status = match picked.as_ref().map(|a| a.status) {
                    Some(AccountStatus::Active) => "active",
                    Some(s) if s.is_pending() => {
                        pending += 1;
                        "initiated"
                    }
                    Some(_) => "failed",
                    None => "not_connected",
                };
                statuses.insert(slug.clone(), json!({"status": status, "connected_account_id": picked.map(|a| a.id)}));
            }
            Ok(if pending == 0 { Look::Done((statuses, 0)) } else { Look::NotYet { answer: (statuses, pending), look_again_at } })
        };
        let (statuses, pending) = self.wait_until(key, granted, look).await?;
        let mut summary = if pending == 0 { "no connection is waiting for the user".to_string() } else { format!("{pending} still waiting for the user") };
        let mut answer = json!({"results": statuses, "timed_out": pending > 0, "waited_at_most_seconds": granted.as_secs()});
        if pending > 0 && granted < asked {
            summary.push_str(&format!(
                " (waited at most {} s, the broker's longest wait, not the {} s asked: call again to keep waiting)",
                granted.as_secs(),
                asked.as_secs()
            ));
            answer["timeout_shortened"] = json!(true);
        }
        answer["summary"] = json!(summary);
        Ok(answer)
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

/// COMPOSIO_SEARCH_TOOLS' arguments as a search request: `queries` (each `{use_case,
/// known_fields}` or a plain string) or one `use_case`, and `toolkits`, `model`,
/// `search_strategy` (`limit` is REST's only). Composio's `session` (`{id, generate_id}`) names the session this call
/// already runs in, so it is accepted and has nothing to change.
fn search_arguments(args: &Map<String, Value>) -> Result<SearchRequest> {
    check_keys(args, &["queries", "use_case", "toolkits", "model", "search_strategy"], &["session"])?;
    let text = |key: &str, v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(Error::validation(format!("arguments.{key}"), "must be a string")),
    };
    let queries = match (args.get("queries"), args.get("use_case")) {
        (Some(Value::Array(qs)), None) => qs
            .iter()
            .enumerate()
            .map(|(i, q)| match q {
                Value::String(u) => Ok(SearchQuery { use_case: u.clone(), known_fields: None }),
                Value::Object(o) => {
                    if let Some(k) = o.keys().find(|k| !["use_case", "known_fields"].contains(&k.as_str())) {
                        return Err(Error::validation(format!("arguments.queries[{i}].{k}"), "unknown key (a query takes use_case, known_fields)"));
                    }
                    let use_case = text(&format!("queries[{i}].use_case"), o.get("use_case").unwrap_or(&Value::Null))?;
                    let known_fields = match o.get("known_fields") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(text(&format!("queries[{i}].known_fields"), v)?),
                    };
                    Ok(SearchQuery { use_case, known_fields })
                }
                _ => Err(Error::validation(format!("arguments.queries[{i}]"), "must be {\"use_case\": \"…\"}")),
            })
            .collect::<Result<Vec<_>>>()?,
        (None, Some(u)) => vec![SearchQuery { use_case: text("use_case", u)?, known_fields: None }],
        _ => return Err(Error::validation("arguments.queries", "give queries: [{\"use_case\": \"…\"}] (or use_case: \"…\")")),
    };
    let toolkits = match args.get("toolkits") {
        None | Some(Value::Null) => vec![],
        Some(_) => toolkit_list(args)?,
    };
    let optional_text = |key: &str| match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text(key, v).map(Some),
    };
    Ok(SearchRequest {
        queries,
        toolkits,
        limit: None,
        model: optional_text("model")?,
        search_strategy: optional_text("search_strategy")?,
        experimental: None,
    })
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
                            "items": {"type": "object", "properties": {
                                "use_case": {"type": "string", "description": "The task in plain words"},
                                "known_fields": {"type": "string", "description": "Values you already know, e.g. \"channel_name:general,user_email:a@b.example\""}
                            }, "required": ["use_case"]}},
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
