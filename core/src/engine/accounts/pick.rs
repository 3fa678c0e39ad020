//! Which of a user's accounts a session uses for a toolkit (tools, meta tools and waits agree).

use crate::engine::store::AccountRecord;
use crate::model::{AccountStatus, SessionConfig};

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
