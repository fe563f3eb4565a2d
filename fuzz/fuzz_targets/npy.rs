//! The NumPy `.npy` reader.
#![no_main]

use std::path::Path;

use amr_core::data::parse_npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = parse_npy(bytes, Path::new("fuzz.npy"), "x");
});
