//! Connecting an account: the Connect Link, the provider's OAuth callback or the connect form,
//! and how every flow ends.

mod callback;
mod callback_urls;
mod form;
mod link;
mod outcome;

pub use callback_urls::CallbackAllowList;
pub use form::{ConnectForm, FormOutcome};
pub use outcome::{CallbackOutcome, CallbackPage, CallbackParams, LinkOpen};
pub(crate) use outcome::ended_page;
