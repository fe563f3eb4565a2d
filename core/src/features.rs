//! Frozen-encoder features: test-time clips of a dataset and their pooled encoder features (the
//! input of the linear probe, kNN and `amr --no-gui embed`).

use burn::prelude::*;
use burn::tensor::TensorData;

use crate::data::Dataset;
use crate::data::clip::{ClipConfig, test_clip};
use crate::model::Encoder;

/// Clips (of equal length) in MAMP's person-major model layout; missing persons stay zero.
///
/// # Shapes
/// -> values of [N, M, T, V, 3]
pub fn pack_clips(clips: &[crate::data::Sequence], m: usize, t: usize, v: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; clips.len() * m * t * v * 3];
    for (i, clip) in clips.iter().enumerate() {
        for p in 0..m.min(clip.persons) {
            for f in 0..t.min(clip.frames) {
                let src = clip.index(f, p, 0, 0);
                let dst = (((i * m + p) * t) + f) * v * 3;
                out[dst..dst + v * 3].copy_from_slice(&clip.positions[src..src + v * 3]);
            }
        }
    }
    out
}

/// Test-time clips (centre crop, resized to `cfg.frames`) of every sequence, in MAMP's person-major
/// model layout.
///
/// # Shapes
/// -> values of [N, M, T, V, 3] and that shape
pub fn eval_clips(ds: &Dataset, cfg: &ClipConfig) -> (Vec<f32>, [usize; 5]) {
    let all: Vec<usize> = (0..ds.len()).collect();
    centre_clips(ds, &all, cfg)
}

/// Test-time clips of the sequences `idx` of `ds`, in the model layout.
///
/// # Shapes
/// -> values of [idx.len(), M, T, V, 3] and that shape
pub fn centre_clips(ds: &Dataset, idx: &[usize], cfg: &ClipConfig) -> (Vec<f32>, [usize; 5]) {
    let (m, t, v) = (ds.persons, cfg.frames, ds.layout.joint_count());
    let clips: Vec<_> = idx.iter().map(|&i| test_clip(&ds.sequences[i], cfg)).collect();
    (pack_clips(&clips, m, t, v), [idx.len(), m, t, v, 3])
}

/// Pooled features (mean over persons, time and joints of the final-norm tokens) of clips in
/// [N, M, T, V, 3] layout, `chunk` sequences at a time.
///
/// # Shapes
/// `x`: [N, M, T, V, 3] -> [N, dim] (row-major values)
pub fn pooled_features(encoder: &Encoder, x: &[f32], shape: [usize; 5], device: &Device, chunk: usize) -> Vec<f32> {
    map_chunks(x, shape, device, chunk, |xs| encoder.forward_pooled(xs))
}

/// Runs `f` over clips in [N, M, T, V, 3] layout, `chunk` sequences at a time, and concatenates the
/// rows it returns.
///
/// # Shapes
/// `x`: [N, M, T, V, 3], `f`: [k, M, T, V, 3] -> [k, D] gives [N, D] (row-major values)
pub fn map_chunks(
    x: &[f32],
    shape: [usize; 5],
    device: &Device,
    chunk: usize,
    f: impl Fn(Tensor<5>) -> Tensor<2>,
) -> Vec<f32> {
    let [n, m, t, v, c] = shape;
    let per = m * t * v * c;
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let k = chunk.max(1).min(n - start);
        let xs = Tensor::<5>::from_data(
            TensorData::new(x[start * per..(start + k) * per].to_vec(), [k, m, t, v, c]),
            device,
        );
        out.extend(f(xs).into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default());
        start += k;
    }
    out
}
