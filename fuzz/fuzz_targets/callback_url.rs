//! A project's callback allow-list entry and a caller's callback URL, both from outside: checking
//! never panics, and a URL it accepts is an http(s) URL on the entry's host.
#![no_main]

use grantline_core::engine::CallbackAllowList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (entry, url) = text.split_once('\n').unwrap_or((text, text));
    let Ok(checked) = CallbackAllowList::check_entry("entry", entry) else { return };
    let entries = [entry.to_string()];
    if let Ok(accepted) = CallbackAllowList::new(&entries).check("callback_url", url) {
        assert!(matches!(accepted.scheme(), "http" | "https"), "{url}");
        assert_eq!(accepted.host_str(), checked.host_str(), "{entry} accepted {url}");
    }
});
