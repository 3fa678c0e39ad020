//! Connect Links of API-key, bearer and basic toolkits: the form the user fills in, the
//! check against the toolkit's verification request, and the sealed values.

use crate::engine::connect::{ended_page, CallbackOutcome, CallbackPage};
use crate::engine::provider::credentials::{form_headers, AuthHeaders, FormValues};
use crate::engine::tools::ProviderCall;
use crate::engine::verification::BindingCookies;
use crate::engine::Engine;
use crate::catalog::{FieldDef, ToolkitDef};
use crate::model::{check_id, LINK_PREFIX};
use crate::Result;

/// Longest value accepted in a form field.
const MAX_VALUE: usize = 4096;

/// The form a Connect Link shows for a toolkit whose users paste a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectForm {
    /// The toolkit's display name.
    pub toolkit_name: String,
    /// The fields to fill in.
    pub fields: Vec<FieldDef>,
    /// The link the form posts back to.
    pub link_token: String,
    /// Why the last submission was not accepted (nothing was stored).
    pub error: Option<String>,
    /// What the user typed in the non-secret fields, to fill them in again.
    pub kept: FormValues,
}

impl ConnectForm {
    pub(crate) fn new(def: &ToolkitDef, link_token: &str, error: Option<String>) -> Self {
        Self {
            toolkit_name: def.name.clone(),
            fields: def.fields.clone().unwrap_or_default(),
            link_token: link_token.to_string(),
            error,
            kept: FormValues::new(),
        }
    }
}

/// What submitting a connect form leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// Connected (or the link had already ended): go where the outcome says.
    Done(CallbackOutcome),
    /// Not accepted: show the form again with the reason.
    Retry(ConnectForm),
}

impl Engine {
    /// `POST /link/{token}`: checks the submitted fields (and the credential, when the toolkit
    /// declares a verification request), seals them and makes the account ACTIVE (a reconnect's
    /// too: the same account, the new values replacing the old). A refused submission stores
    /// nothing and leaves the link usable.
    pub async fn submit_link_form(&self, link_token: &str, submitted: Vec<(String, String)>, cookies: &BindingCookies) -> Result<FormOutcome> {
        let invalid = |reason: &str| Ok(FormOutcome::Done(CallbackOutcome::Page(CallbackPage::Invalid { reason: reason.into() })));
        if check_id("link_token", link_token, LINK_PREFIX).is_err() {
            return invalid("This Connect Link is not valid.");
        }
        let Some(req) = self.store.request_by_link_token(link_token).await? else { return invalid("This Connect Link is not valid.") };
        let Some(account) = self.current_account(&req.project_id, &req.account_id).await? else {
            return invalid("The connection this link belongs to was deleted.");
        };
        if let Some(page) = ended_page(&req, &account, crate::engine::clock::now_ms()) {
            return Ok(FormOutcome::Done(CallbackOutcome::Page(page)));
        }
        if self.link_needs_verification(&req.project_id).await? && !self.link_verified_here(&req.state, cookies).await? {
            return Ok(FormOutcome::Done(Engine::unverified_outcome()));
        }
        let Some(def) = self.catalog.get(&account.toolkit).filter(|d| d.has_form()) else {
            return invalid("This Connect Link does not take a form.");
        };
        let retry = |error: String, values: &FormValues| {
            let mut form = ConnectForm::new(def, link_token, Some(error));
            form.kept = def.fields.iter().flatten().filter(|f| !f.secret).filter_map(|f| values.get(&f.name).map(|v| (f.name.clone(), v.clone()))).collect();
            Ok(FormOutcome::Retry(form))
        };
        let values = match read_fields(def, submitted) {
            Ok(v) => v,
            Err((error, partial)) => return retry(error, &partial),
        };
        if let Err(why) = self.verify_credential(def, &values).await {
            return retry(why, &values);
        }
        if !self.store.consume_request(&req.state, crate::engine::clock::now_ms()).await? {
            return invalid("This Connect Link was already used.");
        }
        let json = serde_json::to_vec(&values).map_err(|e| crate::Error::Internal(e.to_string()))?;
        let sealed = self.vault.seal(&account.id, &json)?;
        self.finish_connection(&req, &account, Ok(sealed)).await.map(FormOutcome::Done)
    }

    /// Runs the toolkit's verification request with the credential; `Err` says why it failed.
    async fn verify_credential(&self, def: &ToolkitDef, values: &FormValues) -> std::result::Result<(), String> {
        let Some(verify) = &def.verify else { return Ok(()) };
        let auth = AuthHeaders(form_headers(def, values).map_err(|e| e.to_string())?);
        let url = self.resolve(def, &verify.path, false).map_err(|e| e.to_string())?;
        let call = ProviderCall { method: verify.method, url, headers: vec![], body: None };
        match self.send(def, &call, &auth).await {
            Ok(a) if (200..300).contains(&a.status) => Ok(()),
            Ok(a) if matches!(a.status, 401 | 403) => {
                Err(format!("{} did not accept these credentials (HTTP {}). Check them and try again.", def.name, a.status))
            }
            Ok(a) => Err(format!("{} answered HTTP {} when the credentials were checked; try again later.", def.name, a.status)),
            Err(_) => Err(format!("{} could not be reached to check the credentials; try again later.", def.name)),
        }
    }
}

/// The declared fields from a submission; on a problem, the message naming the field and
/// what was read so far.
fn read_fields(def: &ToolkitDef, submitted: Vec<(String, String)>) -> std::result::Result<FormValues, (String, FormValues)> {
    let fields = def.fields.as_deref().unwrap_or_default();
    let mut values = FormValues::new();
    for (name, value) in submitted {
        if let Some(f) = fields.iter().find(|f| f.name == name) {
            let value = if f.secret { value } else { value.trim().to_string() };
            values.insert(name, value);
        }
    }
    for f in fields {
        match values.get(&f.name) {
            None => return Err((format!("{} is required.", f.label), values)),
            Some(v) if v.trim().is_empty() => return Err((format!("{} is required.", f.label), values)),
            Some(v) if v.len() > MAX_VALUE => return Err((format!("{} is too long.", f.label), values)),
            Some(v) if v.chars().any(char::is_control) => return Err((format!("{} contains invalid characters.", f.label), values)),
            Some(_) => {}
        }
    }
    Ok(values)
}
