//! `cursor` and `limit` query parameters: parsing never panics or overflows, and an accepted page
//! has a limit in range and an offset that fits.
#![no_main]

use grantline_core::model::PageRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (cursor, limit) = text.split_once('&').unwrap_or((text, ""));
    if let Ok(page) = PageRequest::parse(Some(cursor), Some(limit)) {
        let _ = page.offset();
    }
});
