//! Toolkit tools as data: one HTTP request against the provider's API each, with typed
//! parameters from which the JSON Schema shown to agents is built and arguments are checked.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{Error, Result};

/// The HTTP methods a tool may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Read.
    Get,
    /// Create or act.
    Post,
    /// Replace.
    Put,
    /// Update.
    Patch,
    /// Remove.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether arguments that are not in the path go to the query string (else the JSON body).
    fn args_in_query(self) -> bool {
        matches!(self, Method::Get | Method::Delete)
    }
}

/// JSON types a parameter may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Text.
    String,
    /// Whole number.
    Integer,
    /// Any number.
    Number,
    /// true / false.
    Boolean,
    /// A list (of `items`).
    Array,
    /// A JSON object.
    Object,
}

impl ParamType {
    fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Array => "array",
            ParamType::Object => "object",
        }
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            ParamType::String => v.is_string(),
            ParamType::Integer => v.is_i64() || v.is_u64(),
            ParamType::Number => v.is_number(),
            ParamType::Boolean => v.is_boolean(),
            ParamType::Array => v.is_array(),
            ParamType::Object => v.is_object(),
        }
    }
}

/// Where an argument goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    /// Substituted into `{name}` of the path.
    Path,
    /// A query-string parameter.
    Query,
    /// A member of the JSON body.
    Body,
}

/// One parameter of a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    /// Argument name.
    pub name: String,
    /// JSON type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// What it means, for the model.
    pub description: String,
    /// Whether the call needs it.
    #[serde(default)]
    pub required: bool,
    /// Item type of an array.
    #[serde(default)]
    pub items: Option<ParamType>,
    /// Allowed values.
    #[serde(default, rename = "enum")]
    pub choices: Option<Vec<String>>,
    /// Default the provider applies (shown to the model, not sent).
    #[serde(default)]
    pub default: Option<Value>,
    /// Where it goes; by default the path if the path names it, else query (GET, DELETE) or body.
    #[serde(default, rename = "in")]
    pub location: Option<ParamIn>,
}

/// One tool of a toolkit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolDef {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`.
    pub slug: String,
    /// The toolkit whose account it runs as.
    pub toolkit: String,
    /// Display name.
    pub name: String,
    /// What it does, for the model (and the search index).
    pub description: String,
    /// HTTP method.
    pub method: Method,
    /// Path under the toolkit's `api_base_url` with `{param}` placeholders, or an absolute URL.
    pub path: String,
    /// Parameters.
    #[serde(default)]
    pub params: Vec<ParamDef>,
    /// Search words that are not in the description.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A checked call of a tool: the request to send, before base URL and credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedCall {
    /// HTTP method.
    pub method: Method,
    /// Path (placeholders filled, percent-encoded) or absolute URL.
    pub path: String,
    /// Query-string pairs.
    pub query: Vec<(String, String)>,
    /// JSON body, when any argument goes there.
    pub body: Option<Value>,
}

impl ToolDef {
    /// Checks the definition's invariants, naming the first broken one.
    pub fn validate(&self) -> Result<()> {
        let field = |f: &str| format!("tool {}: {f}", self.slug);
        if self.slug.is_empty() || !self.slug.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            return Err(Error::validation(field("slug"), "use uppercase letters, digits and _"));
        }
        if !self.path.starts_with('/') && !self.path.starts_with("https://") && !self.path.starts_with("http://") {
            return Err(Error::validation(field("path"), "must start with / (under api_base_url) or be an absolute URL"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.params {
            if !seen.insert(p.name.as_str()) {
                return Err(Error::validation(field(&format!("params.{}", p.name)), "declared twice"));
            }
            let in_path = self.path.contains(&format!("{{{}}}", p.name));
            if p.location == Some(ParamIn::Path) && !in_path {
                return Err(Error::validation(field(&format!("params.{}", p.name)), "in = \"path\" but the path has no placeholder for it"));
            }
            if in_path && !p.required {
                return Err(Error::validation(field(&format!("params.{}", p.name)), "a path parameter must be required"));
            }
        }
        for placeholder in placeholders(&self.path) {
            if !self.params.iter().any(|p| p.name == placeholder) {
                return Err(Error::validation(field("path"), format!("{{{placeholder}}} is not a declared parameter")));
            }
        }
        Ok(())
    }

    /// The JSON Schema of the arguments, as shown to agents.
    pub fn input_schema(&self) -> Value {
        let mut properties = Map::new();
        for p in &self.params {
            let mut s = Map::new();
            s.insert("type".into(), json!(p.kind.as_str()));
            s.insert("description".into(), json!(p.description));
            if let Some(items) = p.items {
                s.insert("items".into(), json!({"type": items.as_str()}));
            }
            if let Some(choices) = &p.choices {
                s.insert("enum".into(), json!(choices));
            }
            if let Some(d) = &p.default {
                s.insert("default".into(), d.clone());
            }
            properties.insert(p.name.clone(), Value::Object(s));
        }
        let required: Vec<&str> = self.params.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
        json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
    }

    /// Checks `args` against the parameters (naming the first bad one as `arguments.<name>`)
    /// and lays them out as a request.
    pub fn prepare(&self, args: &Map<String, Value>) -> Result<PreparedCall> {
        for k in args.keys() {
            if !self.params.iter().any(|p| &p.name == k) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::validation(format!("arguments.{k}"), format!("{} takes no such argument (it takes: {})", self.slug, known.join(", "))));
            }
        }
        let mut path = self.path.clone();
        let mut query = Vec::new();
        let mut body = Map::new();
        for p in &self.params {
            let field = || format!("arguments.{}", p.name);
            let value = match args.get(&p.name) {
                None | Some(Value::Null) if p.required => return Err(Error::validation(field(), "is required")),
                None | Some(Value::Null) => continue,
                Some(v) => v,
            };
            if !p.kind.accepts(value) {
                return Err(Error::validation(field(), format!("must be of type {}", p.kind.as_str())));
            }
            if let (Some(items), Value::Array(list)) = (p.items, value) {
                if let Some(i) = list.iter().position(|v| !items.accepts(v)) {
                    return Err(Error::validation(format!("{}[{i}]", field()), format!("must be of type {}", items.as_str())));
                }
            }
            if let (Some(choices), Value::String(s)) = (&p.choices, value) {
                if !choices.contains(s) {
                    return Err(Error::validation(field(), format!("must be one of {}", choices.join(", "))));
                }
            }
            let placeholder = format!("{{{}}}", p.name);
            let location = p.location.unwrap_or(if path.contains(&placeholder) {
                ParamIn::Path
            } else if self.method.args_in_query() {
                ParamIn::Query
            } else {
                ParamIn::Body
            });
            match location {
                ParamIn::Path => {
                    let text = scalar_text(value).ok_or_else(|| Error::validation(field(), "must be a string or a number"))?;
                    path = path.replace(&placeholder, &path_segment(&text).map_err(|m| Error::validation(field(), m))?);
                }
                ParamIn::Query => match value {
                    Value::Array(list) => {
                        let parts: Vec<String> = list.iter().filter_map(scalar_text).collect();
                        query.push((p.name.clone(), parts.join(",")));
                    }
                    other => query.push((p.name.clone(), scalar_text(other).unwrap_or_else(|| other.to_string()))),
                },
                ParamIn::Body => {
                    body.insert(p.name.clone(), value.clone());
                }
            }
        }
        let body = if body.is_empty() && self.method.args_in_query() { None } else { Some(Value::Object(body)) };
        Ok(PreparedCall { method: self.method, path, query, body })
    }
}

/// One path argument as a single, percent-encoded path segment: `/`, `?`, `#`, `%` and every
/// other reserved byte are encoded, so a value never adds a segment, a query or a fragment.
/// `.` and `..` are refused: URL parsers (the WHATWG URL standard, which `url` and so every
/// request the broker sends follows) treat them, and their encodings `%2E` and `%2E%2E`, as
/// "this directory" and "the parent", so no encoding keeps them from changing the path.
pub fn path_segment(text: &str) -> std::result::Result<String, &'static str> {
    match text {
        "" => return Err("must not be empty"),
        "." | ".." => return Err("must not be \".\" or \"..\": a path argument names one thing, it cannot move up the path"),
        _ => {}
    }
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    Ok(encoded.replace('+', "%20"))
}

/// The `{name}` placeholders of a path template.
fn placeholders(path: &str) -> Vec<&str> {
    path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
}

/// A scalar as text (strings unquoted).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_issue() -> ToolDef {
        toml::from_str(
            r#"
            slug = "GITHUB_CREATE_AN_ISSUE"
            toolkit = "github"
            name = "Create an issue"
            description = "Opens an issue."
            method = "POST"
            path = "/repos/{owner}/{repo}/issues"
            params = [
              { name = "owner", type = "string", required = true, description = "Account" },
              { name = "repo", type = "string", required = true, description = "Repository" },
              { name = "title", type = "string", required = true, description = "Title" },
              { name = "labels", type = "array", items = "string", description = "Labels" },
              { name = "dry_run", type = "boolean", in = "query", description = "Only check" },
            ]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn arguments_fill_the_path_query_and_body() {
        let t = create_issue();
        t.validate().unwrap();
        let args = json!({"owner": "octo cat", "repo": "a/b", "title": "Hi", "labels": ["bug"], "dry_run": true});
        let call = t.prepare(args.as_object().unwrap()).unwrap();
        assert_eq!(call.path, "/repos/octo%20cat/a%2Fb/issues", "path values are encoded, never path-traversing");
        assert_eq!(call.query, vec![("dry_run".to_string(), "true".to_string())]);
        assert_eq!(call.body, Some(json!({"title": "Hi", "labels": ["bug"]})));
        let schema = t.input_schema();
        assert_eq!(schema["required"], json!(["owner", "repo", "title"]));
        assert_eq!(schema["properties"]["labels"]["items"]["type"], "string");
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let t = create_issue();
        let bad = |args: Value| match t.prepare(args.as_object().unwrap()) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(bad(json!({"owner": "o", "repo": "r"})), "arguments.title");
        assert_eq!(bad(json!({"owner": "o", "repo": "r", "title": 5})), "arguments.title");
        assert_eq!(bad(json!({"owner": "o", "repo": "r", "title": "t", "labels": ["x", 1]})), "arguments.labels[1]");
        assert_eq!(bad(json!({"owner": "o", "repo": "r", "title": "t", "colour": "red"})), "arguments.colour");
    }

    #[test]
    fn dot_segments_are_refused_and_cannot_climb_the_path() {
        let t = create_issue();
        let bad = |owner: &str, repo: &str| match t.prepare(json!({"owner": owner, "repo": repo, "title": "t"}).as_object().unwrap()) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(bad("..", ".."), "arguments.owner");
        assert_eq!(bad("octo", "."), "arguments.repo");
        let ok = t.prepare(json!({"owner": "...", "repo": "%2E%2E", "title": "t"}).as_object().unwrap()).unwrap();
        assert_eq!(ok.path, "/repos/.../%252E%252E/issues", "only the exact dot segments are refused; % is encoded");
        let url = url::Url::parse(&format!("https://api.github.com{}", ok.path)).unwrap();
        assert_eq!(url.path_segments().unwrap().count(), 4);
    }

    proptest::proptest! {
        /// Whatever text an agent puts in a path argument, the request keeps the template's
        /// segments: no `..` climbs, no `/` adds a segment, no `?` or `#` starts a query.
        #[test]
        fn any_path_argument_stays_one_segment(owner in "\\PC*", repo in proptest::prelude::any::<String>()) {
            let t = create_issue();
            let args = json!({"owner": owner, "repo": repo, "title": "t"});
            match t.prepare(args.as_object().unwrap()) {
                Ok(call) => {
                    let url = url::Url::parse(&format!("https://api.github.com{}", call.path)).unwrap();
                    let segments: Vec<&str> = url.path_segments().unwrap().collect();
                    proptest::prop_assert_eq!(segments.len(), 4, "{}", call.path);
                    proptest::prop_assert_eq!((segments[0], segments[3]), ("repos", "issues"));
                    proptest::prop_assert!(url.query().is_none() && url.fragment().is_none());
                    let decoded = |s: &str| percent_decode(s);
                    proptest::prop_assert_eq!(decoded(segments[1]), owner);
                    proptest::prop_assert_eq!(decoded(segments[2]), repo);
                }
                Err(Error::Validation { field, .. }) => {
                    proptest::prop_assert!(field == "arguments.owner" || field == "arguments.repo");
                    proptest::prop_assert!(["", ".", ".."].contains(&owner.as_str()) || ["", ".", ".."].contains(&repo.as_str()));
                }
                Err(other) => proptest::prop_assert!(false, "{other}"),
            }
        }

        /// A path segment of any text decodes back to that text and holds no `/`.
        #[test]
        fn path_segments_round_trip(text in proptest::prelude::any::<String>()) {
            if let Ok(seg) = path_segment(&text) {
                proptest::prop_assert!(!seg.contains('/') && !seg.contains('?') && !seg.contains('#'));
                proptest::prop_assert_eq!(percent_decode(&seg), text);
            }
        }
    }

    /// Percent-decoding of one path segment, for the properties above.
    fn percent_decode(s: &str) -> String {
        let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_path_placeholder_must_be_a_required_parameter() {
        let mut t = create_issue();
        t.params.retain(|p| p.name != "repo");
        assert!(matches!(t.validate(), Err(Error::Validation { ref field, .. }) if field.ends_with("path")));
    }
}
