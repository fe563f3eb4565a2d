//! The ASF skeleton reader and the AMC motion reader: the input is an ASF file, then a NUL byte,
//! then an AMC file read against it.
#![no_main]

use std::path::Path;

use amr_core::data::{dataset_from_amc, parse_amc, parse_asf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let (asf, amc) = match bytes.iter().position(|b| *b == 0) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    let (Ok(asf), Ok(amc)) = (std::str::from_utf8(asf), std::str::from_utf8(amc)) else { return };
    let Ok(skel) = parse_asf(asf, Path::new("fuzz.asf")) else { return };
    if let Ok(seq) = parse_amc(amc, &skel, Path::new("fuzz.amc")) {
        let _ = dataset_from_amc(skel.layout.clone(), 120.0, vec![seq]).stats();
    }
});
