//! The demo dataset embedded in the binaries (Bandai-Namco subset, CC BY-NC 4.0; see assets/NOTICE.md).

use amr_core::DataError;
use amr_core::data::{Dataset, read_amr_skeleton};

/// The embedded file: 210 sequences natively, a 40-sequence subset (326 KB) in the web build.
#[cfg(not(target_arch = "wasm32"))]
pub const DEMO_BYTES: &[u8] = include_bytes!("../../assets/bandai2_demo.safetensors");
/// The embedded file: 210 sequences natively; in the web build the first take of each action (10
/// sequences, 78 KB) for the first paint, the 40-sequence web subset being fetched after it.
#[cfg(target_arch = "wasm32")]
pub const DEMO_BYTES: &[u8] = include_bytes!("../../assets/bandai2_first.safetensors");

/// The name the demo file goes by in messages.
pub const DEMO_NAME: &str = "embedded:bandai2_demo.safetensors";

/// Reads the embedded demo dataset.
pub fn demo_dataset() -> Result<Dataset, DataError> {
    read_amr_skeleton(DEMO_BYTES, std::path::Path::new(DEMO_NAME))
}
