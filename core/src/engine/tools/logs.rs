//! Execution logs: every tool run, proxied request and meta tool call that answers with a
//! `log_id` is recorded under it: who ran what, as which account, how it ended, how long it took.
//! Never the arguments, the provider's answer or a credential: they may carry the end user's data.

use std::time::Instant;

use crate::engine::store::{ExecutionLogRecord, LogFilter, SessionRecord};
use crate::engine::{clock, Engine, Principal};
use crate::model::{check_id, ExecutionError, ExecutionLog, Page, PageRequest, LOG_PREFIX};
use crate::{Error, Result};

/// The longest error message a log keeps, in characters.
const MAX_LOGGED_MESSAGE: usize = 500;

/// The toolkit meta tools (`COMPOSIO_…`) are logged under.
pub(crate) const META_TOOLKIT: &str = "composio";

/// One execution under way, recorded by [`Engine::record_execution`] once it ends.
pub(crate) struct Execution {
    record: ExecutionLogRecord,
    started: Instant,
}

impl Execution {
    /// Starts timing the execution `log_id` of `tool_slug` (`None`: a proxied request) in `session`.
    pub(crate) fn start(session: &SessionRecord, log_id: &str, toolkit: &str, tool_slug: Option<&str>) -> Self {
        let record = ExecutionLogRecord {
            id: log_id.to_string(),
            project_id: session.project_id.clone(),
            session_id: session.id.clone(),
            user_id: session.config.user_id.clone(),
            account_id: None,
            toolkit: toolkit.to_string(),
            tool_slug: tool_slug.map(str::to_string),
            successful: true,
            error_code: None,
            error_message: None,
            provider_status: None,
            duration_ms: 0,
            created_at: 0,
        };
        Self { record, started: Instant::now() }
    }

    /// Its `log_id`.
    pub(crate) fn log_id(&self) -> &str {
        &self.record.id
    }

    /// The account that signs it.
    pub(crate) fn signed_by(&mut self, account_id: Option<&str>) {
        self.record.account_id = account_id.map(str::to_string);
    }

    /// The provider answered with `status`.
    pub(crate) fn provider_answered(&mut self, status: u16) {
        self.record.provider_status = Some(i32::from(status));
    }

    /// It failed with `code`, the caller told `message`.
    pub(crate) fn failed(&mut self, code: &str, message: &str) {
        self.record.successful = false;
        self.record.error_code = Some(code.to_string());
        self.record.error_message = Some(message.chars().filter(|c| !c.is_control()).take(MAX_LOGGED_MESSAGE).collect());
    }

    /// It failed with `e` (the broker's own failures are recorded by code only).
    pub(crate) fn failed_with(&mut self, e: &Error) {
        let message = match e {
            Error::Internal(_) => "internal error in the broker (logged)".to_string(),
            other => other.to_string(),
        };
        self.failed(e.code(), &message);
    }
}

impl Engine {
    /// Records an execution that ended. A store that fails here does not fail the execution
    /// (the provider was already called): the failure is logged, without the record's content.
    pub(crate) async fn record_execution(&self, mut e: Execution) {
        e.record.duration_ms = i64::try_from(e.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        e.record.created_at = clock::now_ms();
        if let Err(err) = self.store.insert_execution_log(&e.record).await {
            tracing::warn!(log_id = %e.record.id, error = %err, "could not record a tool execution");
        }
    }

    /// `GET /api/v3.1/logs/{log_id}`: one execution of the caller's project.
    pub async fn get_execution_log(&self, who: &Principal, log_id: &str) -> Result<ExecutionLog> {
        who.require_project()?;
        check_id("log_id", log_id, LOG_PREFIX)?;
        let record = self.store.get_execution_log(&who.project.id, log_id).await?.ok_or_else(|| Error::not_found("log", log_id))?;
        Ok(view(&record))
    }

    /// `GET /api/v3.1/logs`: the project's executions matching `filter`, newest first.
    pub async fn list_execution_logs(&self, who: &Principal, filter: &LogFilter, page: PageRequest) -> Result<Page<ExecutionLog>> {
        who.require_project()?;
        let (rows, total) = self.store.list_execution_logs(&who.project.id, filter, page.offset(), page.limit).await?;
        Ok(page.page_of(rows.iter().map(view).collect(), total))
    }
}

/// A log as the API shows it.
fn view(r: &ExecutionLogRecord) -> ExecutionLog {
    ExecutionLog {
        log_id: r.id.clone(),
        session_id: r.session_id.clone(),
        user_id: r.user_id.clone(),
        connected_account_id: r.account_id.clone(),
        toolkit: r.toolkit.clone(),
        tool_slug: r.tool_slug.clone(),
        successful: r.successful,
        error: r.error_code.as_ref().map(|code| ExecutionError { code: code.clone(), message: r.error_message.clone().unwrap_or_default() }),
        provider_status: r.provider_status.and_then(|s| u16::try_from(s).ok()),
        duration_ms: u64::try_from(r.duration_ms).unwrap_or(0),
        created_at: clock::rfc3339(r.created_at),
    }
}
