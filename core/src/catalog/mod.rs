//! The toolkit catalog as data: built-in providers plus the ones a user declares.
//!
//! The built-in list is `toolkits.toml`, compiled into the binary. `grantline serve
//! --providers FILE` adds or overrides entries with a file of the same shape.

mod tools;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
pub use tools::{Method, ParamDef, ParamIn, ParamType, PreparedCall, ToolDef};

const BUILTIN: &str = include_str!("toolkits.toml");
const BUILTIN_TOOLS: &str = include_str!("tools.toml");

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
    /// Token revocation endpoint (RFC 7009), when the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
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
    /// Logo URL; when absent the broker serves a monogram at `/logos/{slug}.svg`, so no page
    /// or answer sends a browser to a third party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
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
    /// Headers every call to the API sends (e.g. an API version).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_headers: BTreeMap<String, String>,
    /// How a pasted credential is sent; by default `Authorization: Bearer {<secret field>}`
    /// (api_key, bearer) or HTTP Basic from `username` and `password` (basic).
    #[serde(default)]
    pub credential: Option<CredentialDef>,
    /// A request that must succeed with a pasted credential before the account is ACTIVE.
    #[serde(default)]
    pub verify: Option<VerifyDef>,
}

/// One header that carries a pasted credential, e.g. `x-api-key: {api_key}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialDef {
    /// Header name.
    pub header: String,
    /// Header value, with `{field}` placeholders for the form's fields.
    pub value: String,
}

/// The request that checks a pasted credential (2xx means it works).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyDef {
    /// HTTP method.
    pub method: Method,
    /// Path under `api_base_url`, or an absolute URL.
    pub path: String,
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
        if (self.verify.is_some() || self.credential.is_some()) && !needs_form(self.auth) {
            return Err(Error::validation(field("verify"), "verify and credential are for api_key, bearer and basic toolkits"));
        }
        if let Some(c) = &self.credential {
            let names: Vec<&str> = self.fields.iter().flatten().map(|f| f.name.as_str()).collect();
            for p in c.value.split('{').skip(1).filter_map(|r| r.split_once('}').map(|(n, _)| n)) {
                if !names.contains(&p) {
                    return Err(Error::validation(field("credential.value"), format!("{{{p}}} is not a field of the form")));
                }
            }
        }
        if self.verify.is_some() && self.api_base_url.is_none() {
            return Err(Error::validation(field("verify"), "needs api_base_url"));
        }
        if self.auth == AuthKind::Basic {
            let names: Vec<&str> = self.fields.iter().flatten().map(|f| f.name.as_str()).collect();
            if self.credential.is_none() && !(names.contains(&"username") && names.contains(&"password")) {
                return Err(Error::validation(field("fields"), "a basic toolkit needs username and password fields (or a credential header)"));
            }
        }
        if let Some(o) = &self.oauth2 {
            if o.scope_separator.is_empty() {
                return Err(Error::validation(field("oauth2.scope_separator"), "must not be empty"));
            }
            for (name, u) in [("oauth2.userinfo_url", &o.userinfo_url), ("oauth2.revocation_url", &o.revocation_url)] {
                if let Some(u) = u {
                    url::Url::parse(u).map_err(|e| Error::validation(field(name), e.to_string()))?;
                }
            }
        }
        let needs_form = needs_form(self.auth);
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

    /// True when the user connects by filling a form (api_key, bearer, basic).
    pub fn has_form(&self) -> bool {
        needs_form(self.auth)
    }

    /// The slug of the toolkit's generated "who am I" tool.
    fn whoami_slug(&self) -> String {
        format!("{}_GET_CURRENT_USER", self.slug.to_ascii_uppercase())
    }
}

fn needs_form(auth: AuthKind) -> bool {
    matches!(auth, AuthKind::ApiKey | AuthKind::Bearer | AuthKind::Basic)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    toolkit: Vec<ToolkitDef>,
    #[serde(default)]
    tool: Vec<ToolDef>,
}

/// Every toolkit and tool the broker knows, by slug.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    toolkits: BTreeMap<String, ToolkitDef>,
    tools: BTreeMap<String, ToolDef>,
    /// Slugs of the generated "who am I" tools (rebuilt on every change).
    generated: Vec<String>,
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Self {
        let mut c = Catalog::default();
        c.merge_toml(BUILTIN, "built-in catalog").expect("the built-in catalog is valid (checked by tests)");
        c.merge_toml(BUILTIN_TOOLS, "built-in tools").expect("the built-in tools are valid (checked by tests)");
        c
    }

    /// Adds (or replaces) the toolkits and tools of a TOML document; `origin` names it in
    /// errors. A document with any bad entry adds nothing.
    pub fn merge_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| Error::validation(origin.to_string(), e.to_string()))?;
        for def in &file.toolkit {
            def.validate()?;
        }
        for tool in &file.tool {
            tool.validate()?;
            let known = self.toolkits.contains_key(&tool.toolkit) || file.toolkit.iter().any(|t| t.slug == tool.toolkit);
            if !known {
                return Err(Error::validation(format!("tool {}: toolkit", tool.slug), format!("no toolkit {:?}", tool.toolkit)));
            }
        }
        for def in file.toolkit {
            self.toolkits.insert(def.slug.clone(), def);
        }
        for tool in file.tool {
            self.tools.insert(tool.slug.clone(), tool);
        }
        self.generate_whoami_tools();
        Ok(())
    }

    /// Adds (or replaces) one toolkit.
    pub fn insert(&mut self, def: ToolkitDef) -> Result<()> {
        def.validate()?;
        self.toolkits.insert(def.slug.clone(), def);
        self.generate_whoami_tools();
        Ok(())
    }

    /// Gives every toolkit with a userinfo endpoint a "who am I" tool, unless a declared
    /// tool already calls that endpoint.
    fn generate_whoami_tools(&mut self) {
        for slug in std::mem::take(&mut self.generated) {
            self.tools.remove(&slug);
        }
        for t in self.toolkits.values() {
            let Some(userinfo) = t.oauth2.as_ref().and_then(|o| o.userinfo_url.clone()) else { continue };
            let declared = self.tools.values().any(|tool| {
                tool.toolkit == t.slug
                    && tool.method == Method::Get
                    && (tool.path == userinfo || t.api_base_url.as_ref().is_some_and(|b| format!("{}{}", b.trim_end_matches('/'), tool.path) == userinfo))
            });
            if declared || self.tools.contains_key(&t.whoami_slug()) {
                continue;
            }
            let tool = ToolDef {
                slug: t.whoami_slug(),
                toolkit: t.slug.clone(),
                name: format!("Get the current {} user", t.name),
                description: format!("Who am I: the profile of the user's connected {} account (id, name, email where shared).", t.name),
                method: Method::Get,
                path: userinfo,
                params: vec![],
                tags: vec!["whoami".into(), "me".into(), "profile".into(), "account".into(), "identity".into()],
            };
            self.generated.push(tool.slug.clone());
            self.tools.insert(tool.slug.clone(), tool);
        }
    }

    /// The tool named `slug`.
    pub fn tool(&self, slug: &str) -> Option<&ToolDef> {
        self.tools.get(slug)
    }

    /// All tools, sorted by slug.
    pub fn tools(&self) -> impl Iterator<Item = &ToolDef> {
        self.tools.values()
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
    fn github_slack_and_gmail_have_real_tools_and_every_userinfo_toolkit_a_whoami_tool() {
        let c = Catalog::builtin();
        for toolkit in ["github", "slack", "gmail"] {
            let n = c.tools().filter(|t| t.toolkit == toolkit).count();
            assert!(n >= 4, "{toolkit} has {n} tools");
        }
        for t in c.iter().filter(|t| t.oauth2.as_ref().is_some_and(|o| o.userinfo_url.is_some())) {
            assert!(c.tools().any(|tool| tool.toolkit == t.slug && tool.tags.iter().any(|x| x == "whoami")), "{} has no who-am-I tool", t.slug);
        }
        assert!(c.tool("GITLAB_GET_CURRENT_USER").is_some());
        assert!(c.tool("GITHUB_GET_CURRENT_USER").is_none(), "GitHub declares its own tool for /user");
        for tool in c.tools() {
            let def = c.get(&tool.toolkit).unwrap();
            assert!(tool.path.starts_with("http") || def.api_base_url.is_some(), "{} has a relative path and no base", tool.slug);
        }
    }

    #[test]
    fn a_custom_file_may_add_tools_but_only_to_known_toolkits() {
        let mut c = Catalog::builtin();
        let tool = "[[tool]]\nslug = \"X_PING\"\ntoolkit = \"{t}\"\nname = \"Ping\"\ndescription = \"p\"\nmethod = \"GET\"\npath = \"/ping\"\n";
        c.merge_toml(&tool.replace("{t}", "github"), "f").unwrap();
        assert_eq!(c.tool("X_PING").unwrap().toolkit, "github");
        let bad = c.merge_toml(&tool.replace("{t}", "nope").replace("X_PING", "Y_PING"), "f");
        assert!(matches!(bad, Err(Error::Validation { ref field, .. }) if field == "tool Y_PING: toolkit"));
        assert!(c.tool("Y_PING").is_none());
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
