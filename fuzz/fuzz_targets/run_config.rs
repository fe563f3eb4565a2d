//! Run config TOML: the pretraining config and every evaluation protocol's config.
#![no_main]

use std::path::Path;

use amr_core::eval::{Protocol, parse_eval_config};
use amr_core::pretrain::parse_pretrain_config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let path = Path::new("fuzz.toml");
    let _ = parse_pretrain_config(text, path);
    for protocol in [
        Protocol::Linear,
        Protocol::Finetune,
        Protocol::Semi,
        Protocol::Transfer,
        Protocol::Knn,
        Protocol::Supervised,
        Protocol::Maskclr,
    ] {
        let _ = parse_eval_config(text, path, protocol);
    }
});
