//! The Node.js face of the Grantline Rust client (napi-rs). Every rule lives in
//! `grantline-core`; this crate only translates names, types, promises and errors.

mod client;
mod errors;
mod json;
mod options;
mod types;
