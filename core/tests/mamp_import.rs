//! MAMP checkpoint import: the fixture checkpoint (written by MAMP's own training script) loaded into
//! our encoder reproduces the reference code's token features and pooled features on its input (run
//! with `AMR_SHARED` set, see tests/support/shared.rs: the fixture stays outside the repository).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use amr_core::backend::cpu_device;
use amr_core::data::parse_npy;
use amr_core::mamp::import_mamp;
use amr_core::model::{DecoderKind, load_params};
use burn::prelude::*;
use burn::tensor::TensorData;

#[path = "../../tests/support/shared.rs"]
mod shared;

/// The MAMP fixture's folder in ../shared (None, said loudly, without `AMR_SHARED`).
fn fixtures(test: &str) -> Option<PathBuf> {
    Some(shared::shared(test)?.join("fixtures/mamp-checkpoint"))
}

fn npy(dir: &Path, name: &str) -> (Vec<usize>, Vec<f32>) {
    let p = dir.join(name);
    let a = parse_npy(&std::fs::read(&p).unwrap(), &p, name).unwrap();
    (a.shape, a.data)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn the_fixture_checkpoint_reproduces_mamp_features() {
    let Some(dir) = fixtures("the_fixture_checkpoint_reproduces_mamp_features") else { return };
    let imp = import_mamp(&dir.join("checkpoint-399.pth"), None).unwrap();
    let c = &imp.config;
    // meta.json: dim 64, depth 2, 4 heads, mlp ratio 4, 32 frames, 25 joints, t_patch 4, decoder 1 x 64.
    assert_eq!((c.dim, c.encoder_depth, c.heads, c.mlp, c.frames, c.joints, c.patch), (64, 2, 4, 256, 32, 25, 4));
    assert_eq!((c.decoder, c.decoder_depth), (DecoderKind::Mamp, 1));
    assert!(imp.decoder_imported && imp.skipped.is_empty() && imp.epoch == Some(399));

    let dev = cpu_device();
    let model = load_params(c.init(&dev), &imp.params).map_err(|(_, e)| e).unwrap();
    let (shape, input) = npy(&dir, "input_nctvm.npy");
    let [n, ch, t, v, m] = shape[..] else { panic!("input shape {shape:?}") };
    assert_eq!((ch, t, v), (3, 32, 25));
    // (N, C, T, V, M) -> (N, M, T, V, C)
    let x = Tensor::<5>::from_data(TensorData::new(input, [n, ch, t, v, m]), &dev).permute([0, 4, 2, 3, 1]);

    let tokens = model.encoder.forward_grid(x.clone());
    let (tshape, want_tokens) = npy(&dir, "tokens_nmtvd.npy");
    assert_eq!(tokens.dims().to_vec(), tshape);
    let got: Vec<f32> = tokens.into_data().try_to_vec().unwrap();
    let d_tokens = max_abs_diff(&got, &want_tokens);

    let pooled = model.encoder.forward_pooled(x);
    let (pshape, want_pooled) = npy(&dir, "pooled_nd.npy");
    assert_eq!(pooled.dims().to_vec(), pshape);
    let got: Vec<f32> = pooled.into_data().try_to_vec().unwrap();
    let d_pooled = max_abs_diff(&got, &want_pooled);
    eprintln!("max |ours - MAMP|: tokens {d_tokens:e}, pooled {d_pooled:e}");
    assert!(d_tokens <= 1e-4 && d_pooled <= 1e-4, "tokens {d_tokens}, pooled {d_pooled}");
}

#[test]
fn a_config_that_does_not_fit_lists_the_keys() {
    let Some(dir) = fixtures("a_config_that_does_not_fit_lists_the_keys") else { return };
    let cfg = amr_core::model::AmrConfig::new()
        .with_frames(32)
        .with_dim(64)
        .with_heads(4)
        .with_mlp(128)
        .with_encoder_depth(3)
        .with_decoder(DecoderKind::Mamp)
        .with_decoder_depth(1)
        .with_r(1);
    let err = import_mamp(&dir.join("checkpoint-399.pth"), Some(&cfg)).unwrap_err().to_string();
    assert!(err.contains("checkpoint-399.pth"), "{err}");
    assert!(err.contains("encoder.blocks.0.mlp.fc1.weight"), "{err}");
    assert!(err.contains("missing keys: encoder.blocks.2."), "{err}");
}

#[test]
fn a_file_that_is_not_a_checkpoint_is_named() {
    // A JSON file is not a PyTorch zip archive.
    let p = std::env::temp_dir().join(format!("amr-not-a-checkpoint-{}.json", std::process::id()));
    std::fs::write(&p, b"{\"dim\": 64}").unwrap();
    let err = import_mamp(&p, None).unwrap_err().to_string();
    let _ = std::fs::remove_file(&p);
    assert!(err.contains("amr-not-a-checkpoint") && err.contains("PyTorch"), "{err}");
}
