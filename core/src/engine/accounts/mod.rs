//! Connected accounts once they exist: their state machine, reading and listing them, waiting
//! for them to change, and ending them (revocation).

mod pick;
mod read;
mod revoke;
pub(crate) mod transitions;
mod wait;

pub(crate) use pick::pick_account;
pub(crate) use wait::Look;
