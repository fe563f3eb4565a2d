//! Losses on the device.

use burn::prelude::*;

/// The focal reconstruction loss (paper Eq. 5): the mean over all target values of
/// W * (prediction - target)^2. (Eq. 5 divides the squared Frobenius norm by the number of patches N;
/// averaging over the r l 3 values of each patch as well, as MAMP's loss does, only scales it by a
/// constant.) With W = 1 it is the plain MSE over all patches.
///
/// # Shapes
/// `pred`, `target`, `weight`: [B, Nq, P] -> scalar [1]
pub fn focal_loss(pred: Tensor<3>, target: Tensor<3>, weight: Tensor<3>) -> Tensor<1> {
    (weight * (pred - target).powi_scalar(2)).mean()
}

/// MAMP's loss: the mean squared error of each token, averaged over the masked tokens of the batch.
///
/// # Shapes
/// `pred`, `target`: [B, L, P], `masked`: [B, L] with 1 for masked tokens -> scalar [1]
pub fn masked_token_loss(pred: Tensor<3>, target: Tensor<3>, masked: Tensor<2>) -> Tensor<1> {
    let per_token = (pred - target).powi_scalar(2).mean_dim(2).squeeze_dim::<2>(2);
    (per_token * masked.clone()).sum() / masked.sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn losses_by_hand() {
        let d = crate::backend::cpu_device();
        let t3 = |v: Vec<f32>, s: [usize; 3]| Tensor::<3>::from_data(TensorData::new(v, s), &d);
        // 1 sample, 2 patches of 2 values: errors 1, 2 | 3, 0; weights 0.5, 0.5 | 1, 0.
        let pred = t3(vec![1.0, 2.0, 3.0, 0.0], [1, 2, 2]);
        let zero = t3(vec![0.0; 4], [1, 2, 2]);
        let w = t3(vec![0.5, 0.5, 1.0, 0.0], [1, 2, 2]);
        let l: f32 = focal_loss(pred.clone(), zero.clone(), w).into_scalar();
        assert!((l - (0.5 + 2.0 + 9.0) / 4.0).abs() < 1e-6);
        // Masked-token loss: token MSEs 2.5 and 4.5; only token 1 masked -> 4.5.
        let masked = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0], [1, 2]), &d);
        let l: f32 = masked_token_loss(pred, zero, masked).into_scalar();
        assert!((l - 4.5).abs() < 1e-6);
    }
}
