//! The project's public profile: the name, logo and support URL every page a person sees shows
//! ("Acme wants to use your GitHub account"), and where the project verifies its users.

use crate::engine::store::{LogoRef, Project, ProjectLogo, ProjectProfileRecord};
use crate::engine::{clock, secrets, Engine, Principal};
use crate::model::{ProjectInfo, ProjectPatch, LOGO_CONTENT_TYPES, MAX_DISPLAY_NAME, MAX_LOGO_BYTES};
use crate::{Error, Result};

/// Path prefix of project logos on the broker: `/project-logos/{project id}/{sha256}.{ext}`.
pub const PROJECT_LOGOS_PATH: &str = "/project-logos/";
/// Longest URL accepted in the profile.
const MAX_URL: usize = 2048;

/// Who asks, as every page a person sees names it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppBrand {
    /// The project's display name, else its name.
    pub app_name: String,
    /// The logo's absolute URL on the broker, when one is set.
    pub logo_url: Option<String>,
    /// Where people get help, when set.
    pub support_url: Option<String>,
    /// The toolkit's display name (`GitHub`), when the page is about one account.
    pub toolkit_name: Option<String>,
}

impl AppBrand {
    /// "Acme wants to use your GitHub account" (or "… your account" without a toolkit).
    pub fn headline(&self) -> String {
        match &self.toolkit_name {
            Some(t) => format!("{} wants to use your {t} account", self.app_name),
            None => format!("{} wants to use your account", self.app_name),
        }
    }
}

/// The image type of `bytes`, read from their first bytes (never from a name or a header).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The file extension of a logo type.
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    }
}

/// Checks a URL a person's browser is sent to (a support page, the app's verifier): https, or
/// http on loopback in a `--dev` broker; no credentials, no fragment.
pub(crate) fn check_page_url(field: &str, raw: &str, dev_mode: bool) -> Result<String> {
    let bad = |why: &str| Error::validation(field, why.to_string());
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(bad("must be a URL (send null to clear it)"));
    }
    if raw.len() > MAX_URL {
        return Err(bad(&format!("must be at most {MAX_URL} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials (user:password@)"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment (#…)"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url.to_string()),
        "http" if dev_mode && crate::engine::origins::is_loopback(&url) => Ok(url.to_string()),
        "http" => Err(bad("must be https (http is allowed only for localhost on a --dev broker)")),
        _ => Err(bad("must be an https URL")),
    }
}

/// Checks a logo: a PNG, JPEG or WebP image of at most [`MAX_LOGO_BYTES`], whose first bytes say
/// it is the type `content_type` names (`None`: whatever they say).
pub fn check_logo(content_type: Option<&str>, bytes: &[u8]) -> Result<ProjectLogo> {
    if bytes.is_empty() {
        return Err(Error::validation("logo", "is empty: send the image as the body"));
    }
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(Error::validation("logo", format!("is {} bytes; at most {MAX_LOGO_BYTES} are accepted", bytes.len())));
    }
    let declared = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if let Some(d) = &declared {
        if !LOGO_CONTENT_TYPES.contains(&d.as_str()) {
            return Err(Error::validation(
                "logo",
                format!("must be a PNG, JPEG or WebP image, not {d} (SVG is not accepted: it can carry script)"),
            ));
        }
    }
    let sniffed = sniff_image(bytes).ok_or_else(|| {
        Error::validation("logo", "is not a PNG, JPEG or WebP image (SVG is not accepted: it can carry script)")
    })?;
    if declared.as_deref().is_some_and(|d| d != sniffed) {
        return Err(Error::validation("logo", format!("is a {sniffed} image but was sent as {}", declared.unwrap_or_default())));
    }
    Ok(ProjectLogo { meta: LogoRef { content_type: sniffed.to_string(), sha256: secrets::sha256_bytes_hex(bytes) }, data: bytes.to_vec() })
}

impl Engine {
    /// A project's profile; the defaults when none was ever set.
    pub(crate) async fn profile(&self, project_id: &str) -> Result<ProjectProfileRecord> {
        Ok(self
            .store
            .project_profile(project_id)
            .await?
            .unwrap_or_else(|| ProjectProfileRecord { project_id: project_id.to_string(), ..Default::default() }))
    }

    /// How pages name the app of `project`, and `toolkit` (a slug) when the page is about one.
    pub async fn brand(&self, project: &Project, toolkit: Option<&str>) -> Result<AppBrand> {
        let profile = self.profile(&project.id).await?;
        Ok(self.brand_of(project, &profile, toolkit))
    }

    fn brand_of(&self, project: &Project, profile: &ProjectProfileRecord, toolkit: Option<&str>) -> AppBrand {
        AppBrand {
            app_name: profile.display_name.clone().unwrap_or_else(|| project.name.clone()),
            logo_url: profile.logo.as_ref().map(|l| self.logo_url_of(&project.id, l)),
            support_url: profile.support_url.clone(),
            toolkit_name: toolkit.map(|slug| self.catalog.get(slug).map_or_else(|| slug.to_string(), |d| d.name.clone())),
        }
    }

    /// How pages name the app of project `project_id` (the brand of a project that is gone is `None`).
    pub(crate) async fn brand_of_project(&self, project_id: &str, toolkit: Option<&str>) -> Result<Option<AppBrand>> {
        match self.store.get_project(project_id).await? {
            Some(project) => self.brand(&project, toolkit).await.map(Some),
            None => Ok(None),
        }
    }

    /// The brand of the pages of a Connect Link (`None` for an unknown link).
    pub async fn brand_for_link(&self, link_token: &str) -> Result<Option<AppBrand>> {
        let Some(req) = self.store.request_by_link_token(link_token).await? else { return Ok(None) };
        let toolkit = self.store.get_account(&req.project_id, &req.account_id).await?.map(|a| a.toolkit);
        self.brand_of_project(&req.project_id, toolkit.as_deref()).await
    }

    /// The brand of the page the OAuth callback with this `state` shows (`None` for an unknown one).
    pub async fn brand_for_state(&self, state: Option<&str>) -> Result<Option<AppBrand>> {
        let Some(state) = state.filter(|s| !s.is_empty()) else { return Ok(None) };
        let Some(req) = self.store.request_by_state(state).await? else { return Ok(None) };
        let toolkit = self.store.get_account(&req.project_id, &req.account_id).await?.map(|a| a.toolkit);
        self.brand_of_project(&req.project_id, toolkit.as_deref()).await
    }

    /// The brand of the pages about account `account_id` of `project`.
    pub async fn brand_for_account(&self, project: &Project, account_id: &str) -> Result<AppBrand> {
        let toolkit = self.store.get_account(&project.id, account_id).await?.map(|a| a.toolkit);
        self.brand(project, toolkit.as_deref()).await
    }

    fn logo_url_of(&self, project_id: &str, logo: &LogoRef) -> String {
        self.config.url(&format!("{PROJECT_LOGOS_PATH}{project_id}/{}.{}", logo.sha256, extension(&logo.content_type)))
    }

    fn project_info(&self, project: &Project, profile: &ProjectProfileRecord) -> ProjectInfo {
        ProjectInfo {
            id: project.id.clone(),
            name: project.name.clone(),
            display_name: profile.display_name.clone(),
            support_url: profile.support_url.clone(),
            logo_url: profile.logo.as_ref().map(|l| self.logo_url_of(&project.id, l)),
            user_verification_url: profile.user_verification_url.clone(),
            verify_connect_links: profile.verify_connect_links,
        }
    }

    /// `GET /api/v3.1/project`.
    pub async fn get_project_info(&self, who: &Principal) -> Result<ProjectInfo> {
        who.require_project()?;
        let profile = self.profile(&who.project.id).await?;
        Ok(self.project_info(&who.project, &profile))
    }

    /// `PATCH /api/v3.1/project`: every field is checked before anything is written.
    pub async fn update_project(&self, who: &Principal, patch: ProjectPatch) -> Result<ProjectInfo> {
        who.require_project()?;
        let mut profile = self.profile(&who.project.id).await?;
        let dev = self.config.dev_mode;
        if let Some(name) = patch.display_name {
            profile.display_name = match name.as_deref().map(str::trim) {
                None => None,
                Some("") => return Err(Error::validation("display_name", "must be 1 to 80 characters (send null to clear it)")),
                Some(n) if n.chars().count() > MAX_DISPLAY_NAME => {
                    return Err(Error::validation("display_name", format!("must be at most {MAX_DISPLAY_NAME} characters")))
                }
                Some(n) if n.chars().any(char::is_control) => {
                    return Err(Error::validation("display_name", "must not contain control characters"))
                }
                Some(n) => Some(n.to_string()),
            };
        }
        if let Some(url) = patch.support_url {
            profile.support_url = url.map(|u| check_page_url("support_url", &u, dev)).transpose()?;
        }
        let clears_verifier = matches!(patch.user_verification_url, Some(None));
        if let Some(url) = patch.user_verification_url {
            profile.user_verification_url = url.map(|u| check_page_url("user_verification_url", &u, dev)).transpose()?;
        }
        if let Some(on) = patch.verify_connect_links {
            profile.verify_connect_links = on;
        }
        // A --dev broker verifies with its built-in page when the project has none.
        if profile.verify_connect_links && profile.user_verification_url.is_none() && !dev {
            return Err(if clears_verifier {
                Error::validation("user_verification_url", "is needed while verify_connect_links is on: turn that off first")
            } else {
                Error::validation("verify_connect_links", "needs a user_verification_url (the app's page that confirms who its user is)")
            });
        }
        profile.updated_at = clock::now_ms();
        self.store.put_project_profile(&profile).await?;
        Ok(self.project_info(&who.project, &profile))
    }

    /// `PUT /api/v3.1/project/logo`: a PNG, JPEG or WebP image of at most [`MAX_LOGO_BYTES`],
    /// whose first bytes say it is the type `content_type` names (`None`: whatever they say).
    pub async fn set_project_logo(&self, who: &Principal, content_type: Option<&str>, bytes: &[u8]) -> Result<ProjectInfo> {
        who.require_project()?;
        let logo = check_logo(content_type, bytes)?;
        self.store.set_project_logo(&who.project.id, Some(&logo), clock::now_ms()).await?;
        self.get_project_info(who).await
    }

    /// `DELETE /api/v3.1/project/logo`.
    pub async fn delete_project_logo(&self, who: &Principal) -> Result<ProjectInfo> {
        who.require_project()?;
        self.store.set_project_logo(&who.project.id, None, clock::now_ms()).await?;
        self.get_project_info(who).await
    }

    /// `GET /project-logos/{project}/{file}`: the logo, when `file` names the current one.
    pub async fn project_logo(&self, project_id: &str, file: &str) -> Result<ProjectLogo> {
        let missing = || Error::not_found("logo", file);
        let logo = self.store.project_logo(project_id).await?.ok_or_else(missing)?;
        if file != format!("{}.{}", logo.meta.sha256, extension(&logo.meta.content_type)) {
            return Err(missing());
        }
        Ok(logo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_is_known_by_its_first_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n rest"), Some("image/png"));
        assert_eq!(sniff_image(b"\xff\xd8\xff\xe0 rest"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff_image(b"GIF89a"), None);
    }

    #[test]
    fn a_page_url_is_https_or_dev_loopback() {
        assert_eq!(check_page_url("support_url", "https://acme.test/help", false).unwrap(), "https://acme.test/help");
        assert!(check_page_url("support_url", "http://acme.test/help", true).is_err());
        assert!(check_page_url("support_url", "http://127.0.0.1:5000/verify", false).is_err());
        assert!(check_page_url("support_url", "http://127.0.0.1:5000/verify", true).is_ok());
        assert!(check_page_url("support_url", "javascript:alert(1)", true).is_err());
        assert!(check_page_url("support_url", "https://u:p@acme.test", false).is_err());
        let e = check_page_url("user_verification_url", "ftp://acme.test", false).unwrap_err();
        assert!(matches!(e, Error::Validation { ref field, .. } if field == "user_verification_url"), "{e}");
    }
}
