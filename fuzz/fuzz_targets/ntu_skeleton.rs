//! The NTU RGB+D `.skeleton` text reader, with both second-person options.
#![no_main]

use std::path::Path;

use amr_core::data::{SecondPerson, parse_ntu_skeleton};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    for second in [SecondPerson::Zero, SecondPerson::Duplicate] {
        let _ = parse_ntu_skeleton(text, Path::new("S001C001P001R001A001.skeleton"), second);
    }
});
