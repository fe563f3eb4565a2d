//! The demo dataset embedded in the binaries (Bandai-Namco subset, CC BY-NC 4.0; see assets/NOTICE.md)
//! and the pretrained model that ships with them (AMR pretrained on Bandai-2, CC BY-NC 4.0 like its
//! data): the reconstruction view opens with it.

use amr_core::DataError;
use amr_core::data::{Dataset, read_amr_skeleton};
use amr_core::pretrain::Checkpoint;

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

/// The shipped model's file: in the native binaries; the web page fetches it beside itself.
pub const MODEL_FILE: &str = "bandai2_amr.safetensors";

/// The shipped model (model-only checkpoint; see assets/NOTICE.md for how it was trained).
#[cfg(not(target_arch = "wasm32"))]
pub const MODEL_BYTES: &[u8] = include_bytes!("../../assets/bandai2_amr.safetensors");

/// Reads a shipped-model file's bytes; `name` says where they came from in errors.
pub fn read_demo_model(bytes: &[u8], name: &str) -> Result<Checkpoint, DataError> {
    Checkpoint::from_bytes(bytes, std::path::Path::new(name))
}

/// The shipped model embedded in the native binaries.
#[cfg(not(target_arch = "wasm32"))]
pub fn demo_model() -> Result<Checkpoint, DataError> {
    read_demo_model(MODEL_BYTES, &format!("embedded:{MODEL_FILE}"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_reconstructs_demo_clips_better_than_the_trivial_predictor() {
        let ckpt = demo_model().unwrap();
        assert!(ckpt.optimizer.is_empty() && ckpt.state.is_none(), "a model-only file");
        assert_eq!(ckpt.config.model.joints, 21);
        let ds = demo_dataset().unwrap();
        let r = amr_core::pretrain::Reconstructor::new(&ckpt, &amr_core::backend::cpu_device()).unwrap();
        // Several demo clips under the paper's masking: the error of the NAT targets is well below that
        // of predicting 0 (each joint's clip mean), which a model that learned nothing approaches.
        assert_eq!(ckpt.config.batch.target, amr_core::pretrain::TargetKind::Nat);
        // Every tenth clip of the demo data: the errors summed over the clips well below the trivial
        // prediction's (single clips can be worse: the training loss weighs joints by their motion).
        let (mut model, mut trivial) = (0.0, 0.0);
        for i in (0..ds.len()).step_by(10) {
            let rec = pollster::block_on(r.reconstruct(&ds, i, 0, None, 0)).unwrap();
            let m = rec.joint_error.iter().sum::<f32>() / rec.joint_error.len() as f32;
            let t = rec.target.iter().map(|v| v * v).sum::<f32>() / rec.target.len() as f32;
            assert!(m.is_finite(), "clip {i}");
            (model, trivial) = (model + m, trivial + t);
        }
        eprintln!("shipped model: reconstruction error {model:.3} against {trivial:.3} for predicting 0");
        assert!(model < 0.85 * trivial, "model {model} vs trivial {trivial}");
    }
}
