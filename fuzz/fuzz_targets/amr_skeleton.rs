//! The amr-skeleton safetensors reader, and the writer round trip for what it accepts.
#![no_main]

use std::path::Path;

use amr_core::data::{Precision, read_amr_skeleton, write_amr_skeleton};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(ds) = read_amr_skeleton(bytes, Path::new("fuzz.safetensors")) {
        let _ = ds.stats();
        // What the reader accepts, the writer writes and the reader reads back.
        if let Ok(out) = write_amr_skeleton(&ds, Precision::F32) {
            assert!(read_amr_skeleton(&out, Path::new("back.safetensors")).is_ok());
        }
    }
});
