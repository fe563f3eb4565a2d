//! The web page's URL fragment, applied to an App showing the embedded demo data.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use amr_core::data::Dataset;

use amr_ui::AmrApp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(hash) = std::str::from_utf8(bytes) else { return };
    static DEMO: OnceLock<Option<Dataset>> = OnceLock::new();
    let Some(data) = DEMO.get_or_init(|| amr_core::demo::demo_dataset().ok()).clone() else { return };
    let mut app = AmrApp::new(data, "demo", Arc::new(Mutex::new(None)));
    app.apply_url_hash(hash);
});
