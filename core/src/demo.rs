//! The demo dataset embedded in the binaries (Bandai-Namco subset, CC BY-NC 4.0; see assets/NOTICE.md)
//! and the pretrained model that ships with them (AMR pretrained on Bandai-2, CC BY-NC 4.0 like its
//! data): the reconstruction view opens with it.

use crate::DataError;
use crate::data::{Dataset, read_amr_skeleton};
use crate::pretrain::Checkpoint;

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
        let r = crate::pretrain::Reconstructor::new(&ckpt, &crate::backend::cpu_device()).unwrap();
        // Every tenth clip of the demo data: the errors summed over the clips well below those of the
        // trivial predictor of the run's target (single clips can be worse: the training loss weighs
        // joints by their motion).
        let raw = ckpt.config.batch.target == crate::pretrain::TargetKind::Raw;
        let (mut model, mut trivial) = (0.0, 0.0);
        for i in (0..ds.len()).step_by(10) {
            let rec = pollster::block_on(r.reconstruct(&ds, i, 0, None, 0)).unwrap();
            let m = rec.joint_error.iter().sum::<f32>() / rec.joint_error.len() as f32;
            assert!(m.is_finite(), "clip {i}");
            (model, trivial) = (model + m, trivial + trivial_error(&rec.target, rec.clip.joints, raw));
        }
        eprintln!("shipped model: reconstruction error {model:.4} against {trivial:.4} for the trivial predictor");
        assert!(model < 0.85 * trivial, "model {model} vs trivial {trivial}");
    }

    /// Mean squared error of the trivial prediction of targets [T, V, 3]: 0 for NAT targets (each
    /// joint's clip mean), each joint's and axis's mean over the clip for raw ones.
    fn trivial_error(target: &[f32], joints: usize, raw: bool) -> f32 {
        let frames = target.len() / (joints * 3);
        let mut sum = 0.0;
        for k in 0..joints * 3 {
            let xs: Vec<f32> = (0..frames).map(|t| target[t * joints * 3 + k]).collect();
            let mean = if raw { xs.iter().sum::<f32>() / frames as f32 } else { 0.0 };
            sum += xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>();
        }
        sum / target.len() as f32
    }
}
