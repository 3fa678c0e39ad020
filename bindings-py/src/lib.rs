//! `grantline._native`: the Python face of the Grantline Rust client.
//!
//! Every rule lives in `grantline-core`; this crate only translates names, types and errors.
//! `grantline/__init__.py` re-exports these classes under their public names.

mod api;
mod errors;
mod json;
mod options;
mod runtime;
mod tools;
mod twins;
mod types;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<api::Grantline>()?;
    m.add_class::<api::Session>()?;
    m.add_class::<api::ConnectionRequest>()?;
    m.add_class::<api::ConnectedAccounts>()?;
    m.add_class::<api::Webhooks>()?;
    m.add_class::<api::AsyncGrantline>()?;
    m.add_class::<api::AsyncSession>()?;
    m.add_class::<api::AsyncConnectionRequest>()?;
    m.add_class::<api::AsyncConnectedAccounts>()?;
    m.add_class::<api::AsyncWebhooks>()?;
    m.add_class::<types::ConnectedAccount>()?;
    m.add_class::<types::AccountsPage>()?;
    m.add_class::<types::RefreshedAccount>()?;
    m.add_class::<types::RevokedAccount>()?;
    m.add_class::<types::Toolkit>()?;
    m.add_class::<types::ToolkitConnection>()?;
    m.add_class::<types::ToolkitsPage>()?;
    m.add_class::<types::Mcp>()?;
    m.add_class::<tools::Tool>()?;
    m.add_class::<tools::ExecuteResult>()?;
    m.add_class::<tools::ExecuteMetaResult>()?;
    m.add_class::<tools::SearchHit>()?;
    m.add_class::<tools::ProxyResult>()?;
    m.add_class::<types::ClientToken>()?;
    m.add_class::<types::McpCredential>()?;
    m.add_class::<types::McpCredentialInfo>()?;
    m.add_class::<types::UserVerification>()?;
    m.add_class::<types::ProjectInfo>()?;
    m.add_class::<types::WebhookSubscription>()?;
    m.add_class::<types::WebhookSubscriptionsPage>()?;
    m.add_class::<types::RotatedWebhookSecret>()?;
    m.add_class::<types::WebhookEventType>()?;
    m.add_class::<types::WebhookDelivery>()?;
    m.add_class::<types::DeliveryAttempt>()?;
    m.add_class::<types::WebhookDeliveriesPage>()?;
    Ok(())
}
