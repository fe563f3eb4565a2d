//! The models that evaluation trains: [`Probe`] (a frozen encoder and the linear head) and
//! [`Classifier`] (encoder, MLP head and MaskCLR's mask token), plus the per-step random parts of a
//! training pass (drop path, dropout, the AGPM mask) drawn from the run's seeded generator.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::head::{HeadOutput, LinearHead, MlpHead, NormStatistics};
use crate::data::PartMix;
use crate::model::{AmrConfig, DropPath, Encoder, NamedParams, ParamMismatch, load_params, param_shapes};
use crate::rng::SeededRng;

/// Frozen encoder plus linear head (parameter paths `encoder.*`, `head.*`).
#[derive(Module, Debug)]
pub struct Probe {
    /// The encoder (never updated).
    pub encoder: Encoder,
    /// BatchNorm without affine and the linear layer.
    pub head: LinearHead,
}

/// Encoder, MLP head and mask token (parameter paths `encoder.*`, `head.*`, `mask_token`).
#[derive(Module, Debug)]
pub struct Classifier {
    /// The encoder.
    pub encoder: Encoder,
    /// The MLP head.
    pub head: MlpHead,
    /// MaskCLR's learnable mask token [1, 1, dim].
    pub mask_token: Param<Tensor<3>>,
}

/// The random parts of one training pass (none at evaluation).
#[derive(Debug, Clone, Default)]
pub struct PassOptions {
    /// One per encoder block, or empty for no stochastic depth.
    pub drop: Vec<DropPath>,
    /// Dropout mask of the token grid [N, M, T', V, dim].
    pub keep: Option<Tensor<5>>,
    /// Tokens replaced by the mask token [N M, L, 1].
    pub mask: Option<Tensor<3>>,
    /// BatchNorm in training mode.
    pub train: bool,
    /// Also return the last block's attention weights (MaskCLR's attention-guided masking).
    pub attention: bool,
}

/// What a classifier pass returns.
#[derive(Debug, Clone)]
pub struct ClassifierPass {
    /// Logits and hidden features.
    pub out: HeadOutput,
    /// The last block's attention [N M, heads, L, L], when the pass asked for it.
    pub attention: Option<Tensor<4>>,
}

impl Classifier {
    /// A classifier of the encoder shape `cfg` with `hidden` head units and `classes` outputs; random
    /// parameters drawn from `seed`.
    pub fn new(cfg: &AmrConfig, hidden: usize, classes: usize, seed: u64, device: &Device) -> Self {
        let m = Self {
            encoder: Encoder::new(cfg, device),
            head: MlpHead::new(cfg.joints, cfg.dim, hidden, classes, device),
            mask_token: Param::from_tensor(Tensor::zeros([1, 1, cfg.dim], device)),
        };
        m.map(&mut crate::model::init::SeededInit::new(seed))
    }

    /// # Shapes
    /// `x`: [N, M, T, V, 3] -> logits [N, classes], features [N, hidden]
    pub fn forward(&self, x: Tensor<5>, opts: PassOptions) -> ClassifierPass {
        let replace = opts.mask.map(|mk| (mk, self.mask_token.val()));
        let (grid, attention) = self.grid(x, replace, &opts.drop, opts.attention);
        ClassifierPass { out: self.head.forward(grid, opts.keep, opts.train), attention }
    }

    /// The encoder's token grid, and the last block's attention when `attention` asks for it.
    ///
    /// # Shapes
    /// `x`: [N, M, T, V, 3] -> [N, M, T', V, dim], attention [N M, heads, L, L]
    fn grid(
        &self,
        x: Tensor<5>,
        replace: Option<(Tensor<3>, Tensor<3>)>,
        drop: &[DropPath],
        attention: bool,
    ) -> (Tensor<5>, Option<Tensor<4>>) {
        let [n, m, t, v, c] = x.dims();
        let (tokens, attention) = self.encoder.forward_classify(x.reshape([n * m, t, v, c]), replace, drop, attention);
        let d = tokens.dims()[2];
        (tokens.reshape([n, m, t / self.encoder.embed.patch(), v, d]), attention)
    }

    /// The head's hidden units before its BatchNorm, from an evaluation pass (no dropout, no drop path,
    /// no mask).
    ///
    /// # Shapes
    /// `x`: [N, M, T, V, 3] -> [N, hidden]
    pub fn hidden(&self, x: Tensor<5>) -> Tensor<2> {
        self.head.hidden(self.grid(x, None, &[], false).0)
    }

    /// The classifier with its head's BatchNorm running statistics replaced by `stats`, gathered
    /// from [`Self::hidden`] (stochastic weight averaging's BatchNorm update).
    pub fn with_norm_statistics(self, stats: &NormStatistics, device: &Device) -> Self {
        let bn = self.head.bn.with_statistics(stats, device);
        Self { head: MlpHead { bn, ..self.head }, ..self }
    }
}

/// An encoder of shape `cfg` with its random parameters drawn from `seed`.
pub fn seeded_encoder(cfg: &AmrConfig, seed: u64, device: &Device) -> Encoder {
    Encoder::new(cfg, device).map(&mut crate::model::init::SeededInit::new(seed))
}

/// Loads the `encoder.*` entries of a checkpoint's parameters `init` into `encoder` (other entries,
/// such as a decoder's or a head's, are ignored). Every encoder parameter must be there with its shape;
/// the error names the missing and mis-shaped keys.
pub fn load_encoder(encoder: Encoder, init: &NamedParams) -> Result<Encoder, ParamMismatch> {
    let wanted = param_shapes(&encoder);
    let own: NamedParams = init
        .iter()
        .filter_map(|(k, t)| {
            let k = k.strip_prefix("encoder.")?;
            wanted.contains_key(k).then(|| (k.to_string(), t.clone()))
        })
        .collect();
    load_params(encoder, &own).map_err(|(_, mut e)| {
        for key in e.missing.iter_mut().chain(e.shapes.iter_mut()) {
            *key = format!("encoder.{key}");
        }
        e
    })
}

/// The lr scale of a fine-tuned parameter under layer-wise decay (spec 3.2): embeddings are layer 0,
/// block i is layer i + 1, everything else (final norm, head, mask token) layer `depth + 1`; the scale
/// is `decay^(depth + 1 - layer)`.
pub fn layer_decay_scale(path: &str, depth: usize, decay: f64) -> f64 {
    let top = depth + 1;
    let layer = if path.starts_with("encoder.embed.") {
        0
    } else if let Some(rest) = path.strip_prefix("encoder.blocks.") {
        rest.split('.').next().and_then(|i| i.parse::<usize>().ok()).map_or(top, |i| i + 1)
    } else {
        top
    };
    decay.powi((top - layer.min(top)) as i32)
}

/// Drop-path scales of every block for `samples` samples: block i drops each branch with probability
/// `rate * i / (depth - 1)` (timm's linspace), a kept branch scaled by 1 / (1 - p).
pub fn drop_path_masks(depth: usize, rate: f64, samples: usize, rng: &mut SeededRng, device: &Device) -> Vec<DropPath> {
    if rate <= 0.0 {
        return Vec::new();
    }
    let mut draw = |p: f64| {
        let v: Vec<f32> =
            (0..samples).map(|_| if rng.uniform() < p { 0.0 } else { (1.0 / (1.0 - p)) as f32 }).collect();
        Tensor::<3>::from_data(TensorData::new(v, [samples, 1, 1]), device)
    };
    (0..depth)
        .map(|i| {
            let p = if depth > 1 { rate * i as f64 / (depth - 1) as f64 } else { 0.0 };
            DropPath { attn: draw(p), mlp: draw(p) }
        })
        .collect()
}

/// A dropout mask of `shape`: 0 with probability `p`, else 1 / (1 - p).
pub fn dropout_mask(shape: [usize; 5], p: f64, rng: &mut SeededRng, device: &Device) -> Option<Tensor<5>> {
    if p <= 0.0 {
        return None;
    }
    let n: usize = shape.iter().product();
    let keep = (1.0 / (1.0 - p)) as f32;
    let v: Vec<f32> = (0..n).map(|_| if rng.uniform() < p { 0.0 } else { keep }).collect();
    Some(Tensor::from_data(TensorData::new(v, shape), device))
}

/// Cross-entropy with label smoothing `eps` (the target puts 1 - eps on the label and eps / C on every
/// class, as PyTorch's `label_smoothing`), averaged over the batch.
///
/// # Shapes
/// `logits`: [N, C] -> [1]
pub fn cross_entropy(logits: Tensor<2>, labels: &[usize], eps: f64) -> Tensor<1> {
    mixed_cross_entropy(logits, labels, &[], eps)
}

/// [`cross_entropy`] of clips mixed by [`crate::data::PartMixer`]: a mixed clip's label mass
/// (1 - eps) is shared between its own label (`own`) and its partner's. `mixes` is empty or has one
/// entry per clip.
///
/// # Shapes
/// `logits`: [N, C] -> [1]
pub fn mixed_cross_entropy(logits: Tensor<2>, labels: &[usize], mixes: &[Option<PartMix>], eps: f64) -> Tensor<1> {
    let [n, c] = logits.dims();
    let device = logits.device();
    let mut q = vec![(eps / c as f64) as f32; n * c];
    for (i, &y) in labels.iter().enumerate() {
        match mixes.get(i).copied().flatten() {
            Some(PartMix { partner, own }) => {
                q[i * c + y.min(c - 1)] += ((1.0 - eps) * own) as f32;
                q[i * c + labels[partner].min(c - 1)] += ((1.0 - eps) * (1.0 - own)) as f32;
            }
            None => q[i * c + y.min(c - 1)] += (1.0 - eps) as f32,
        }
    }
    let q = Tensor::<2>::from_data(TensorData::new(q, [n, c]), &device);
    let logp = burn::tensor::activation::log_softmax(logits, 1);
    (q * logp).sum_dim(1).mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_decay_follows_the_published_ids() {
        let s = |p: &str| layer_decay_scale(p, 8, 0.8);
        assert!((s("encoder.embed.temp_embed") - 0.8f64.powi(9)).abs() < 1e-12);
        assert!((s("encoder.blocks.0.attn.query.weight") - 0.8f64.powi(8)).abs() < 1e-12);
        assert!((s("encoder.blocks.7.mlp.fc1.bias") - 0.8).abs() < 1e-12);
        assert_eq!(s("encoder.norm.gamma"), 1.0);
        assert_eq!(s("head.fc1.weight"), 1.0);
    }

    #[test]
    fn cross_entropy_with_smoothing_matches_the_formula() {
        let dev = crate::backend::cpu_device();
        let logits = Tensor::<2>::from_floats([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], &dev);
        let got: f32 = cross_entropy(logits, &[0, 2], 0.1).into_scalar();
        let lse0 = (2.0f64.exp() + 1.0 + (-1.0f64).exp()).ln();
        let logp0 = [2.0 - lse0, -lse0, -1.0 - lse0];
        let l0 = -(0.9 * logp0[0] + 0.1 / 3.0 * logp0.iter().sum::<f64>());
        let l1 = 3.0f64.ln(); // uniform logits: -log(1/3) whatever the target
        let want = (l0 + l1) / 2.0;
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn a_mixed_target_shares_the_label_mass_with_the_partner() {
        let dev = crate::backend::cpu_device();
        let logits = Tensor::<2>::from_floats([[2.0, 0.0, -1.0], [0.5, -0.5, 1.0]], &dev);
        let mixes = [Some(PartMix { partner: 1, own: 0.75 }), None];
        let got: f32 = mixed_cross_entropy(logits.clone(), &[0, 2], &mixes, 0.1).into_scalar();
        let logp = |row: [f64; 3]| {
            let lse = row.iter().map(|x| x.exp()).sum::<f64>().ln();
            row.map(|x| x - lse)
        };
        let (p0, p1) = (logp([2.0, 0.0, -1.0]), logp([0.5, -0.5, 1.0]));
        let smooth = |p: [f64; 3]| 0.1 / 3.0 * p.iter().sum::<f64>();
        let l0 = -(0.9 * 0.75 * p0[0] + 0.9 * 0.25 * p0[2] + smooth(p0));
        let l1 = -(0.9 * p1[2] + smooth(p1));
        let want = (l0 + l1) / 2.0;
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
        let plain: f32 = cross_entropy(logits.clone(), &[0, 2], 0.1).into_scalar();
        let unmixed: f32 = mixed_cross_entropy(logits, &[0, 2], &[None, None], 0.1).into_scalar();
        assert_eq!(plain, unmixed);
    }

    #[test]
    fn drop_path_rates_grow_linearly_and_keep_the_expectation() {
        let dev = crate::backend::cpu_device();
        let masks = drop_path_masks(3, 0.3, 4000, &mut SeededRng::new(2), &dev);
        let rate = |t: &Tensor<3>| {
            let v: Vec<f32> = t.clone().into_data().try_to_vec::<f32>().unwrap();
            (v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64, v.iter().sum::<f32>() / v.len() as f32)
        };
        assert_eq!(rate(&masks[0].attn).0, 0.0, "the first block never drops");
        let (p1, mean1) = rate(&masks[1].mlp);
        let (p2, mean2) = rate(&masks[2].attn);
        assert!((p1 - 0.15).abs() < 0.03 && (p2 - 0.3).abs() < 0.03, "{p1} {p2}");
        assert!((mean1 - 1.0).abs() < 0.05 && (mean2 - 1.0).abs() < 0.06, "{mean1} {mean2}");
    }
}
