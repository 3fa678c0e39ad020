//! The data Grantline talks about, shared by the engine, the broker and every SDK.
//!
//! These are the wire types of the REST API (snake_case JSON, Composio v3.1 shapes),
//! so a value read from the broker and one written by it are the same Rust type.

mod account;
mod auth_config;
mod client_token;
mod mcp_credential;
mod ids;
mod logs;
mod nothing;
pub(crate) mod object;
mod page;
mod project;
mod session;
mod status;
mod toolkit;
mod tools;
mod webhook;
pub(crate) mod whole;

pub use account::*;
pub use auth_config::*;
pub use client_token::*;
pub use mcp_credential::*;
pub use ids::*;
pub use logs::*;
pub use nothing::*;
pub use page::*;
pub use project::*;
pub use session::*;
pub use status::*;
pub use toolkit::*;
pub use tools::*;
pub use webhook::*;
