//! Tool arguments from a model or an app, for every built-in tool: preparing a call never panics,
//! and an argument never changes the call's path (no added segment, no `.` or `..`).
#![no_main]

use grantline_core::catalog::Catalog;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(args)) = serde_json::from_slice::<Value>(data) else { return };
    thread_local!(static CATALOG: Catalog = Catalog::builtin());
    CATALOG.with(|catalog| {
        for tool in catalog.tools() {
            let Ok(call) = tool.prepare(&args) else { continue };
            if call.path.starts_with('/') {
                let segments: Vec<&str> = call.path.split('?').next().unwrap().split('/').collect();
                assert!(!segments.iter().any(|s| *s == "." || *s == ".."), "{} -> {}", tool.slug, call.path);
                assert_eq!(segments.len(), tool.path.split('/').count(), "{} -> {}", tool.slug, call.path);
            }
        }
    });
});
