//! Bad input, every endpoint and form: each case of `tests/scenarios/bad_input.json` answers 4xx
//! naming the field (or, on a page, saying what is wrong), and the database holds exactly the
//! same rows afterwards.

mod common;

use std::collections::BTreeMap;

use common::{Broker, BrokerOptions};
use grantline_core::client::SessionOptions;
use serde::Deserialize;
use serde_json::Value;

/// One case of the matrix, as the JSON file states it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    method: String,
    /// With `{session}`, `{account}` and `{link}` standing for a session, an INITIATED account
    /// and its link token.
    path: String,
    /// A JSON body, sent as `application/json` unless `content_type` says otherwise.
    #[serde(default)]
    json: Option<Value>,
    /// A raw body.
    #[serde(default)]
    body: Option<String>,
    /// A raw body given in hex (for bytes that are not UTF-8).
    #[serde(default)]
    body_hex: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    /// The status expected.
    status: u16,
    /// The `error.field` the JSON answer must name.
    #[serde(default)]
    field: Option<String>,
    /// Text the answer must contain (pages, and errors about a missing thing).
    #[serde(default)]
    says: Option<String>,
}

fn cases() -> Vec<Case> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/bad_input.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Expands the file's shorthands for big input: `{{x*N}}` is N times `x`, and the JSON string
/// `"{{list N word}}"` is a list of N times `"word"`.
fn expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = start + rest[start..].find("}}").expect("an unclosed {{") + 2;
        let inner = &rest[start + 2..end - 2];
        if let Some(spec) = inner.strip_prefix("list ") {
            let (n, word) = spec.split_once(' ').expect("{{list N word}}");
            let list = vec![word; n.parse().unwrap()];
            // The shorthand stands for a whole JSON string: its quotes go too.
            out.push_str(&rest[..start - 1]);
            out.push_str(&serde_json::to_string(&list).unwrap());
            rest = &rest[end + 1..];
        } else {
            let (c, n) = inner.split_once('*').expect("{{c*N}}");
            out.push_str(&rest[..start]);
            out.push_str(&c.repeat(n.parse().unwrap()));
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Every row of every table, as text, table by table (a logical dump: rows, not file bytes).
fn dump(db: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join(" | "))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.sort();
            (t, rows)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let client = broker.client();
    let options = SessionOptions { toolkits: vec!["sandbox".into(), "github".into()], ..Default::default() };
    let session = client.create("u1", options).await.unwrap();
    let link = session.authorize("sandbox", Default::default()).await.unwrap();
    let http = broker.http();

    let before = dump(&broker.db_path);
    let cases = cases();
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for case in &cases {
        let path = expand(&case.path).replace("{session}", session.session_id()).replace("{account}", link.id()).replace("{link}", link.link_token());
        let mut req = http.request(case.method.parse().unwrap(), broker.url(&path));
        let (body, default_type) = match (&case.json, &case.body, &case.body_hex) {
            (Some(j), None, None) => (Some(expand(&j.to_string()).into_bytes()), "application/json"),
            (None, Some(b), None) => (Some(b.clone().into_bytes()), "application/json"),
            (None, None, Some(h)) => (Some(hex(h)), "application/json"),
            (None, None, None) => (None, ""),
            _ => panic!("{}: give one of json, body, body_hex", case.name),
        };
        if let Some(b) = body {
            req = req.header("content-type", case.content_type.as_deref().unwrap_or(default_type)).body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let field = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["error"]["field"].as_str().map(str::to_string));
        let problem = if status != case.status {
            Some(format!("status {status}, expected {}", case.status))
        } else if case.field.is_some() && field != case.field {
            Some(format!("field {field:?}, expected {:?}", case.field))
        } else if case.says.as_ref().is_some_and(|s| !text.contains(s.as_str())) {
            Some(format!("the answer does not say {:?}", case.says.as_ref().unwrap()))
        } else if case.field.is_none() && case.says.is_none() {
            Some("the case names neither the field nor what the answer says".into())
        } else {
            None
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}\n    {}", case.name, text.chars().take(300).collect::<String>()));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    let after = dump(&broker.db_path);
    for (table, rows) in &before {
        assert_eq!(rows, &after[table], "table {table} changed");
    }
    assert_eq!(before.len(), after.len(), "tables appeared or went");
    let rows: usize = before.values().map(Vec::len).sum();
    println!(
        "{} bad-input cases: every one 4xx naming the field, in {} ms; database unchanged ({} tables, {rows} rows)",
        cases.len(),
        started.elapsed().as_millis(),
        before.len()
    );
    assert!(cases.len() >= 80);
}
