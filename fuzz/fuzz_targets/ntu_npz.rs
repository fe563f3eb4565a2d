//! The NTU `.npz` reader (the public pipeline's `x_train`, `y_train`, ... arrays in a zip).
#![no_main]

use std::path::Path;

use amr_core::data::read_ntu_npz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(ds) = read_ntu_npz(bytes, Path::new("fuzz.npz")) {
        let _ = ds.stats();
    }
});
