//! The toolkit catalog as data: built-in providers plus the ones a user declares.
//!
//! The built-in list is `toolkits.toml`, compiled into the binary. `grantline serve
//! --providers FILE` adds or overrides entries with a file of the same shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const BUILTIN: &str = include_str!("toolkits.toml");

/// How a toolkit's accounts authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// OAuth 2.0 authorization code flow.
    Oauth2,
    /// A key the user pastes.
    ApiKey,
    /// A bearer token the user pastes.
    Bearer,
    /// Username and password.
    Basic,
    /// Nothing to connect.
    None,
}

impl AuthKind {
    /// The wire name of the scheme (`OAUTH2`, `API_KEY`, …).
    pub fn scheme(self) -> &'static str {
        match self {
            AuthKind::Oauth2 => "OAUTH2",
            AuthKind::ApiKey => "API_KEY",
            AuthKind::Bearer => "BEARER_TOKEN",
            AuthKind::Basic => "BASIC",
            AuthKind::None => "NO_AUTH",
        }
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// HTTP Basic with the client credentials.
    Basic,
}

/// A provider's OAuth 2.0 endpoints and habits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Def {
    /// Where the user is sent to consent.
    pub authorization_url: String,
    /// Where the code is exchanged.
    pub token_url: String,
    /// Who-am-I endpoint, when there is one.
    #[serde(default)]
    pub userinfo_url: Option<String>,
    /// How scopes are joined in the authorization URL.
    pub scope_separator: String,
    /// Scopes requested when the auth config names none.
    pub default_scopes: Vec<String>,
    /// Whether to send a PKCE S256 challenge.
    pub pkce: bool,
    /// Client authentication at the token endpoint.
    pub token_auth: TokenAuth,
    /// Extra query parameters of the authorization URL.
    #[serde(default)]
    pub extra_authorize_params: Option<BTreeMap<String, String>>,
}

/// A field of a non-OAuth connect form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Form field name.
    pub name: String,
    /// Label shown to the user.
    pub label: String,
    /// Whether the value is a secret (stored encrypted, masked).
    pub secret: bool,
}

/// One toolkit of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolkitDef {
    /// e.g. `github`.
    pub slug: String,
    /// e.g. `GitHub`.
    pub name: String,
    /// One sentence on what it gives an agent.
    pub description: String,
    /// Logo URL.
    pub logo: String,
    /// Categories for browsing.
    #[serde(default)]
    pub categories: Vec<String>,
    /// How accounts authenticate.
    pub auth: AuthKind,
    /// The provider's REST API base.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// OAuth 2.0 settings (required when `auth = "oauth2"`).
    #[serde(default)]
    pub oauth2: Option<OAuth2Def>,
    /// Connect-form fields (for api_key, bearer and basic).
    #[serde(default)]
    pub fields: Option<Vec<FieldDef>>,
}

impl ToolkitDef {
    /// Checks the definition's invariants, naming the first broken one.
    pub fn validate(&self) -> Result<()> {
        let field = |f: &str| format!("toolkit {}: {f}", self.slug);
        if self.slug.is_empty() || !self.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(Error::validation(field("slug"), "use lowercase letters, digits and _"));
        }
        match (self.auth, &self.oauth2) {
            (AuthKind::Oauth2, None) => return Err(Error::validation(field("oauth2"), "required when auth = \"oauth2\"")),
            (AuthKind::Oauth2, Some(o)) => {
                for (name, u) in [("authorization_url", &o.authorization_url), ("token_url", &o.token_url)] {
                    let parsed = url::Url::parse(u).map_err(|e| Error::validation(field(name), e.to_string()))?;
                    if !matches!(parsed.scheme(), "http" | "https") {
                        return Err(Error::validation(field(name), "must be http or https"));
                    }
                }
            }
            (_, Some(_)) => return Err(Error::validation(field("oauth2"), "only allowed when auth = \"oauth2\"")),
            _ => {}
        }
        if let Some(o) = &self.oauth2 {
            if o.scope_separator.is_empty() {
                return Err(Error::validation(field("oauth2.scope_separator"), "must not be empty"));
            }
            if let Some(u) = &o.userinfo_url {
                url::Url::parse(u).map_err(|e| Error::validation(field("oauth2.userinfo_url"), e.to_string()))?;
            }
        }
        let needs_form = matches!(self.auth, AuthKind::ApiKey | AuthKind::Bearer | AuthKind::Basic);
        match &self.fields {
            None if needs_form => return Err(Error::validation(field("fields"), "required for a connect form")),
            Some(f) if needs_form && f.is_empty() => {
                return Err(Error::validation(field("fields"), "must list at least one field"))
            }
            Some(_) if !needs_form => {
                return Err(Error::validation(field("fields"), "only allowed for api_key, bearer and basic"))
            }
            _ => {}
        }
        Ok(())
    }

    /// True when no connection is needed.
    pub fn is_no_auth(&self) -> bool {
        self.auth == AuthKind::None
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    toolkit: Vec<ToolkitDef>,
}

/// Every toolkit the broker knows, by slug.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    toolkits: BTreeMap<String, ToolkitDef>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Self {
        let mut c = Catalog::default();
        c.merge_toml(BUILTIN, "built-in catalog").expect("the built-in catalog is valid (checked by tests)");
        c
    }

    /// Adds (or replaces) the toolkits of a TOML document; `origin` names it in errors.
    pub fn merge_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| Error::validation(origin.to_string(), e.to_string()))?;
        for def in &file.toolkit {
            def.validate()?;
        }
        for def in file.toolkit {
            self.toolkits.insert(def.slug.clone(), def);
        }
        Ok(())
    }

    /// Adds (or replaces) one toolkit.
    pub fn insert(&mut self, def: ToolkitDef) -> Result<()> {
        def.validate()?;
        self.toolkits.insert(def.slug.clone(), def);
        Ok(())
    }

    /// The toolkit named `slug`.
    pub fn get(&self, slug: &str) -> Option<&ToolkitDef> {
        self.toolkits.get(slug)
    }

    /// All toolkits, sorted by slug.
    pub fn iter(&self) -> impl Iterator<Item = &ToolkitDef> {
        self.toolkits.values()
    }

    /// Number of toolkits.
    pub fn len(&self) -> usize {
        self.toolkits.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.toolkits.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_twenty_real_oauth_providers_and_no_auth_ones() {
        let c = Catalog::builtin();
        let oauth: Vec<_> = c.iter().filter(|t| t.auth == AuthKind::Oauth2).collect();
        assert!(oauth.len() >= 20, "only {} oauth2 toolkits", oauth.len());
        for slug in ["github", "gitlab", "gmail", "googlecalendar", "googledrive", "slack", "notion", "linear", "jira",
            "discord", "dropbox", "hubspot", "salesforce", "zoom", "asana", "spotify", "outlook", "figma", "airtable", "bitbucket"]
        {
            let t = c.get(slug).unwrap_or_else(|| panic!("{slug} missing"));
            let o = t.oauth2.as_ref().unwrap();
            assert!(o.authorization_url.starts_with("https://") && o.token_url.starts_with("https://"), "{slug}");
            assert!(!o.default_scopes.is_empty(), "{slug} has no default scopes");
        }
        assert!(c.iter().filter(|t| t.is_no_auth()).count() >= 3);
        let forms: Vec<_> = c.iter().filter(|t| matches!(t.auth, AuthKind::ApiKey | AuthKind::Bearer | AuthKind::Basic)).collect();
        assert!(forms.len() >= 3 && forms.iter().all(|t| t.fields.as_ref().is_some_and(|f| f.iter().any(|f| f.secret))));
        assert_eq!(c.get("slack").unwrap().oauth2.as_ref().unwrap().scope_separator, ",");
    }

    #[test]
    fn a_custom_provider_file_adds_toolkits_and_rejects_bad_ones() {
        let mut c = Catalog::builtin();
        let n = c.len();
        c.merge_toml(
            r#"
            [[toolkit]]
            slug = "acme"
            name = "Acme"
            description = "Acme's API"
            logo = "https://acme.test/logo.png"
            auth = "oauth2"
            [toolkit.oauth2]
            authorization_url = "http://127.0.0.1:1/auth"
            token_url = "http://127.0.0.1:1/token"
            scope_separator = " "
            default_scopes = ["openid"]
            pkce = true
            token_auth = "post"
            "#,
            "providers.toml",
        )
        .unwrap();
        assert_eq!(c.len(), n + 1);
        let bad = c.merge_toml("[[toolkit]]\nslug = \"Bad Slug\"\nname = \"x\"\ndescription = \"x\"\nlogo = \"x\"\nauth = \"none\"\n", "f");
        assert!(matches!(bad, Err(Error::Validation { ref field, .. }) if field.ends_with("slug")));
        let formless = c.merge_toml("[[toolkit]]\nslug = \"k\"\nname = \"K\"\ndescription = \"x\"\nlogo = \"x\"\nauth = \"api_key\"\n", "f");
        assert!(matches!(formless, Err(Error::Validation { ref field, .. }) if field == "toolkit k: fields"));
        assert_eq!(c.len(), n + 1, "a rejected file adds nothing");
        let unknown = c.merge_toml("[[toolkit]]\nslug = \"x\"\nnmae = \"x\"\n", "f.toml");
        assert!(matches!(unknown, Err(Error::Validation { ref message, .. }) if message.contains("nmae")));
    }
}
