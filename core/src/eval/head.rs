//! Classification heads: the linear probe's (BatchNorm without affine, then a linear layer; reference
//! spec 3.1) and the fine-tuning MLP (reference spec 3.2, also MaskCLR's head), with a BatchNorm that
//! keeps PyTorch's running statistics (biased variance to normalise, unbiased for the running value).

use burn::module::{Param, RunningState};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::model::init::linear;
use crate::rng::SeededRng;

/// `BatchNorm1d` over [N, C] with optional affine parameters.
#[derive(Module, Debug)]
pub struct BatchNorm1d {
    /// Scale (affine only).
    pub gamma: Option<Param<Tensor<1>>>,
    /// Shift (affine only).
    pub beta: Option<Param<Tensor<1>>>,
    /// Running mean.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance.
    pub running_var: RunningState<Tensor<1>>,
    eps: f64,
    momentum: f64,
}

impl BatchNorm1d {
    /// A BatchNorm of `features` channels, momentum 0.1 (PyTorch's default).
    pub fn new(features: usize, affine: bool, eps: f64, device: &Device) -> Self {
        let ones = || Tensor::<1>::ones([features], device);
        Self {
            gamma: affine.then(|| Param::from_tensor(ones())),
            beta: affine.then(|| Param::from_tensor(Tensor::zeros([features], device))),
            running_mean: RunningState::new(Tensor::zeros([features], device)),
            running_var: RunningState::new(ones()),
            eps,
            momentum: 0.1,
        }
    }

    /// Normalises with the batch statistics (`train`, updating the running ones) or with the running
    /// statistics.
    ///
    /// # Shapes
    /// `x`: [N, C] -> [N, C]
    pub fn forward(&self, x: Tensor<2>, train: bool) -> Tensor<2> {
        let [n, c] = x.dims();
        let device = x.device();
        let (mean, var) = if train {
            let mean = x.clone().mean_dim(0);
            let var = (x.clone() - mean.clone()).square().mean_dim(0);
            let unbiased = var.clone().detach().mul_scalar(n as f64 / (n.max(2) - 1) as f64).reshape([c]);
            let m = self.momentum;
            let rm = self.running_mean.value_sync().to_device(&device).mul_scalar(1.0 - m)
                + mean.clone().detach().reshape([c]).mul_scalar(m);
            let rv = self.running_var.value_sync().to_device(&device).mul_scalar(1.0 - m) + unbiased.mul_scalar(m);
            self.running_mean.update(rm.detach());
            self.running_var.update(rv.detach());
            // Fold the update into the stored value now: parameter visits (checkpoints) and `valid()`
            // copies read the stored value.
            let _ = (self.running_mean.value_sync(), self.running_var.value_sync());
            (mean, var)
        } else {
            let mean = self.running_mean.value().to_device(&device).reshape([1, c]);
            let var = self.running_var.value().to_device(&device).reshape([1, c]);
            (mean, var)
        };
        let y = (x - mean) / var.add_scalar(self.eps).sqrt();
        match (&self.gamma, &self.beta) {
            (Some(g), Some(b)) => y * g.val().reshape([1, c]) + b.val().reshape([1, c]),
            _ => y,
        }
    }

    /// The same normalisation with its running statistics replaced by `stats`' mean and unbiased
    /// variance.
    pub fn with_statistics(self, stats: &NormStatistics, device: &Device) -> Self {
        let (mean, var) = stats.mean_var();
        let c = mean.len();
        Self {
            running_mean: RunningState::new(Tensor::from_data(TensorData::new(mean, [c]), device)),
            running_var: RunningState::new(Tensor::from_data(TensorData::new(var, [c]), device)),
            ..self
        }
    }
}

/// Per-channel mean and unbiased variance of rows added a block at a time (Welford's update in f64):
/// what stochastic weight averaging's BatchNorm update gathers over a whole set in one pass, without
/// holding the set.
#[derive(Debug, Clone, PartialEq)]
pub struct NormStatistics {
    rows: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl NormStatistics {
    /// No rows yet, `channels` per row.
    pub fn new(channels: usize) -> Self {
        Self { rows: 0, mean: vec![0.0; channels], m2: vec![0.0; channels] }
    }

    /// Adds the rows of a row-major block (a partial last row is ignored).
    pub fn add(&mut self, block: &[f32]) {
        let c = self.mean.len().max(1);
        for row in block.chunks_exact(c) {
            self.rows += 1;
            let n = self.rows as f64;
            for ((mean, m2), &x) in self.mean.iter_mut().zip(&mut self.m2).zip(row) {
                let d = f64::from(x) - *mean;
                *mean += d / n;
                *m2 += d * (f64::from(x) - *mean);
            }
        }
    }

    /// Rows added.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Per channel, the mean and the unbiased variance (over max(rows, 2) - 1, as the running
    /// statistics of [`BatchNorm1d::forward`]).
    pub fn mean_var(&self) -> (Vec<f32>, Vec<f32>) {
        let dof = (self.rows.max(2) - 1) as f64;
        (self.mean.iter().map(|&m| m as f32).collect(), self.m2.iter().map(|&m2| (m2 / dof) as f32).collect())
    }
}

/// The linear probe's head: `BatchNorm1d(dim, affine = false, eps = 1e-6)` then `Linear(dim, classes)`
/// with normal(0, 0.01) weights and a zero bias.
#[derive(Module, Debug)]
pub struct LinearHead {
    /// The normalisation.
    pub bn: BatchNorm1d,
    /// The classifier.
    pub fc: Linear,
}

impl LinearHead {
    /// A head for `dim` features and `classes` classes, weights drawn from `seed`.
    pub fn new(dim: usize, classes: usize, seed: u64, device: &Device) -> Self {
        let mut fc = linear(dim, classes, device);
        let mut rng = SeededRng::new(seed);
        let w: Vec<f32> = (0..dim * classes).map(|_| (0.01 * rng.normal()).clamp(-0.02, 0.02) as f32).collect();
        fc.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [dim, classes]), device));
        Self { bn: BatchNorm1d::new(dim, false, 1e-6, device), fc }
    }

    /// # Shapes
    /// `features`: [N, dim] -> logits [N, classes]
    pub fn forward(&self, features: Tensor<2>, train: bool) -> Tensor<2> {
        self.fc.forward(self.bn.forward(features, train))
    }
}

/// The fine-tuning head: dropout on the token grid, mean over time, the joints' features concatenated
/// and averaged over persons, then `fc1` (V dim -> hidden), BatchNorm, ReLU (the feature MaskCLR
/// contrasts) and `fc2` (hidden -> classes).
#[derive(Module, Debug)]
pub struct MlpHead {
    /// V dim -> hidden.
    pub fc1: Linear,
    /// BatchNorm over the hidden units.
    pub bn: BatchNorm1d,
    /// hidden -> classes.
    pub fc2: Linear,
}

/// What the MLP head returns.
#[derive(Debug, Clone)]
pub struct HeadOutput {
    /// [N, classes]
    pub logits: Tensor<2>,
    /// [N, hidden], after the ReLU.
    pub features: Tensor<2>,
}

impl MlpHead {
    /// A head for tokens of `joints` x `dim` with `hidden` units and `classes` outputs.
    pub fn new(joints: usize, dim: usize, hidden: usize, classes: usize, device: &Device) -> Self {
        Self {
            fc1: linear(joints * dim, hidden, device),
            bn: BatchNorm1d::new(hidden, true, 1e-5, device),
            fc2: linear(hidden, classes, device),
        }
    }

    /// `keep` is the dropout mask of the token grid (0 or 1 / (1 - p); none outside training).
    ///
    /// # Shapes
    /// `grid`: [N, M, T', V, dim], `keep`: [N, M, T', V, dim] -> logits [N, classes], features [N, hidden]
    pub fn forward(&self, grid: Tensor<5>, keep: Option<Tensor<5>>, train: bool) -> HeadOutput {
        let grid = match keep {
            Some(k) => grid * k,
            None => grid,
        };
        let h = self.hidden(grid);
        let features = burn::tensor::activation::relu(self.bn.forward(h, train));
        HeadOutput { logits: self.fc2.forward(features.clone()), features }
    }

    /// The hidden units before the BatchNorm: the grid pooled over time and persons, then `fc1`.
    ///
    /// # Shapes
    /// `grid`: [N, M, T', V, dim] -> [N, hidden]
    pub fn hidden(&self, grid: Tensor<5>) -> Tensor<2> {
        let [n, m, _, v, d] = grid.dims();
        let pooled = grid.mean_dim(2).reshape([n, m, v * d]).mean_dim(1).reshape([n, v * d]);
        self.fc1.forward(pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_norm_matches_pytorch_statistics() {
        let dev = crate::backend::cpu_device();
        let bn = BatchNorm1d::new(2, false, 1e-6, &dev);
        let x = Tensor::<2>::from_floats([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]], &dev);
        let y: Vec<f32> = bn.forward(x, true).into_data().try_to_vec::<f32>().unwrap();
        // Column 0: mean 3, biased var 8/3; column 1: mean 12, biased var 8.
        let s0 = (8.0f32 / 3.0 + 1e-6).sqrt();
        let s1 = (8.0f32 + 1e-6).sqrt();
        let want = [-2.0 / s0, -2.0 / s1, 0.0, -2.0 / s1, 2.0 / s0, 4.0 / s1];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{y:?} vs {want:?}");
        }
        // Running: 0.9 * 0 + 0.1 * mean; 0.9 * 1 + 0.1 * unbiased var (4 and 12).
        let rm: Vec<f32> = bn.running_mean.value().into_data().try_to_vec::<f32>().unwrap();
        let rv: Vec<f32> = bn.running_var.value().into_data().try_to_vec::<f32>().unwrap();
        assert!((rm[0] - 0.3).abs() < 1e-6 && (rm[1] - 1.2).abs() < 1e-6, "{rm:?}");
        assert!((rv[0] - 1.3).abs() < 1e-6 && (rv[1] - 2.1).abs() < 1e-5, "{rv:?}");
        let e: Vec<f32> =
            bn.forward(Tensor::<2>::from_floats([[0.3, 1.2]], &dev), false).into_data().try_to_vec::<f32>().unwrap();
        assert!(e.iter().all(|v| v.abs() < 1e-6), "inference uses the running statistics: {e:?}");
    }

    #[test]
    fn norm_statistics_are_the_mean_and_unbiased_variance_of_all_rows() {
        let dev = crate::backend::cpu_device();
        let mut stats = NormStatistics::new(2);
        // Two blocks, the first with a trailing partial row that is ignored.
        stats.add(&[1.0, 10.0, 99.0]);
        stats.add(&[3.0, 10.0, 5.0, 16.0]);
        assert_eq!(stats.rows(), 3);
        // Column 0: mean 3, unbiased var (4 + 0 + 4) / 2; column 1: mean 12, (4 + 4 + 16) / 2.
        let (mean, var) = stats.mean_var();
        assert!((mean[0] - 3.0).abs() < 1e-6 && (mean[1] - 12.0).abs() < 1e-6, "{mean:?}");
        assert!((var[0] - 4.0).abs() < 1e-6 && (var[1] - 12.0).abs() < 1e-6, "{var:?}");
        let bn = BatchNorm1d::new(2, true, 1e-5, &dev).with_statistics(&stats, &dev);
        let rm: Vec<f32> = bn.running_mean.value().into_data().try_to_vec::<f32>().unwrap();
        let rv: Vec<f32> = bn.running_var.value().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!((rm, rv), (mean, var));
        assert!(bn.gamma.is_some() && bn.beta.is_some(), "the affine parameters are kept");
    }

    #[test]
    fn mlp_head_pools_time_then_persons() {
        let dev = crate::backend::cpu_device();
        let head = MlpHead::new(2, 3, 4, 5, &dev);
        let grid = Tensor::<5>::random([2, 2, 3, 2, 3], burn::tensor::Distribution::Default, &dev);
        let out = head.forward(grid.clone(), None, true);
        assert_eq!(out.logits.dims(), [2, 5]);
        assert_eq!(out.features.dims(), [2, 4]);
        let fmin: f32 = out.features.min().into_scalar();
        assert!(fmin >= 0.0, "features come after the ReLU");
        let zero = head.forward(grid, Some(Tensor::zeros([2, 2, 3, 2, 3], &dev)), false);
        let direct = head.fc2.forward(burn::tensor::activation::relu(
            head.bn.forward(head.fc1.forward(Tensor::zeros([2, 6], &dev)), false),
        ));
        let diff: f32 = (zero.logits - direct).abs().max().into_scalar();
        assert!(diff < 1e-6, "a zero dropout mask gives the head of zero features");
    }
}
