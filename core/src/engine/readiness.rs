//! Readiness (`/readyz`): whether this broker can serve now. Liveness (`/healthz`) is only that
//! the process answers.

use crate::engine::Engine;

/// One thing readiness depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCheck {
    /// `database`, `migrations` or `change_feed`.
    pub name: &'static str,
    /// Whether it is ready.
    pub ok: bool,
    /// What was found (why not, when not ready); never a secret.
    pub detail: String,
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The checks.
    pub checks: Vec<ReadyCheck>,
}

impl Readiness {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

impl Engine {
    /// Checks that the database answers (a cheap query), the schema is migrated and the change
    /// feed that wakes waiters is connected.
    pub async fn ready(&self) -> Readiness {
        let check = |name, ok, detail: &str| ReadyCheck { name, ok, detail: detail.to_string() };
        let database = match self.store.ping().await {
            Ok(()) => check("database", true, "answers"),
            Err(e) => check("database", false, &e.to_string()),
        };
        // `Engine::new` migrates before an engine exists, and the broker serves only after.
        let migrations = check("migrations", true, "applied");
        let change_feed = match (self.follower.is_finished(), self.store.change_feed_connected()) {
            (true, _) => check("change_feed", false, "the change feed closed"),
            (false, Some(false)) => check("change_feed", false, "the change feed lost its database connection; reconnecting"),
            (false, Some(true)) => check("change_feed", true, "listening"),
            (false, None) => check("change_feed", true, "in-process"),
        };
        let shutting_down = *self.shutdown.borrow();
        let mut checks = vec![database, migrations, change_feed];
        if shutting_down {
            checks.push(check("shutdown", false, "the broker is shutting down"));
        }
        Readiness { checks }
    }
}
