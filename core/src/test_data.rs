//! Data shared by the unit tests: the 40-sequence web demo subset of the Bandai data in `assets/`.

use crate::data::{Dataset, read_amr_skeleton};

/// The web demo dataset (40 Bandai-2 sequences, 21 joints).
pub fn web_demo() -> Dataset {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/bandai2_web.safetensors"))
        .expect("assets/bandai2_web.safetensors");
    read_amr_skeleton(&bytes, std::path::Path::new("bandai2_web.safetensors")).expect("a valid demo file")
}
