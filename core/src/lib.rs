//! Grantline core: the model, the connection engine and the HTTP client.
//!
//! - [`model`]: the wire types of the REST API, shared by broker and SDKs.
//! - [`client`]: the Rust client every SDK wraps (builds for wasm32 too).
//! - `engine` (feature `engine`, native only): the authority that runs the flows.
//! - `catalog` (feature `engine`): the toolkit catalog as data.

pub mod client;
mod error;
pub mod model;

#[cfg(feature = "engine")]
pub mod catalog;
#[cfg(feature = "engine")]
pub mod engine;

pub use client::{AuthorizeOptions, Client, ClientConfig, ConnectionRequest, RedirectOutcome, Session, SessionOptions};
pub use error::{Error, ErrorBody, ErrorDetail, Result};
/// The table of error kinds every host's error classes are generated from (`cargo xtask gen-errors`).
pub use error::{ErrorField, ErrorKind, FieldType, Host, HostErrorKind, Sdk, SdkClass, BASE_CLASS, HOST_KINDS, KINDS};
