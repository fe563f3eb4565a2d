//! The BVH reader, with both option sets, and the dataset built from its take.
#![no_main]

use std::path::Path;

use amr_core::data::{BvhOptions, dataset_from_bvh, parse_bvh};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let path = Path::new("fuzz.bvh");
    for drop_static_root in [true, false] {
        if let Ok(take) = parse_bvh(text, path, BvhOptions { scale: 0.01, drop_static_root }) {
            let _ = dataset_from_bvh(vec![take], path).map(|ds| ds.stats());
        }
    }
});
