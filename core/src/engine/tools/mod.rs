//! Tools: running a toolkit's tools and proxied requests as a user, the meta tools an agent
//! calls (search, connections, multi-execute), and tool search.

mod logs;
mod meta;
mod run;
mod search;

pub use meta::{ToolCallOutcome, MAX_TOOLS_PAGE};
pub(crate) use meta::meta_tools;
pub(crate) use run::ProviderCall;
pub(crate) use logs::{Execution, META_TOOLKIT};
