//! Any JSON as the options of an SDK call, in both hosts' spellings: the core's option rules
//! answer a value or a validation error, never a panic.
#![no_main]

use grantline_core::client::options::{self, Naming};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    for naming in [Naming::Snake, Naming::Camel] {
        let _ = options::session_options(Some(&value), naming);
        let _ = options::toolkits_query(Some(&value), naming);
        let _ = options::account_filter(Some(&value), naming);
        let _ = options::proxy_request(Some(&value), naming);
    }
});
