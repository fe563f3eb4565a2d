//! The whole MAMP checkpoint import (a PyTorch zip: pickle, tensor records, shapes to a config),
//! read from a file as `amr --no-gui import-mamp` reads it.
#![no_main]

use amr_core::mamp::import_mamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("amr-fuzz-mamp-{}.pth", std::process::id()));
    if std::fs::write(&path, bytes).is_ok() {
        let _ = import_mamp(&path, None);
    }
});
