//! Settings the apps stored (JSON in local storage or eframe's file), applied at start-up.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use amr_core::data::Dataset;

use amr_ui::{AmrApp, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(settings) = serde_json::from_slice::<Settings>(bytes) else { return };
    static DEMO: OnceLock<Option<Dataset>> = OnceLock::new();
    let Some(data) = DEMO.get_or_init(|| amr_core::demo::demo_dataset().ok()).clone() else { return };
    let _ = AmrApp::new(data, "demo", Arc::new(Mutex::new(None))).with_settings(settings);
});
