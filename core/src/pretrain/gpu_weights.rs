//! Focal weights of a pretraining batch from the WGSL kernel instead of the CPU reference: the
//! batch's person clips go to the GPU in one dispatch, and the fused per-frame weights come back in
//! the target-patch layout, with the loss region applied as the batcher does.

use super::{BatchConfig, LossRegion, PretrainBatch, zero_unmasked_patches};
use crate::data::Sequence;
use crate::focal::window_weights_to_patches;
use crate::gpu::{FocalKernel, GpuError};
use crate::model::{AmrConfig, DecoderKind};

/// Replaces `batch.weight` with weights computed by `kernel` from the batch's clips (`batch.x`).
/// Only the decoders whose targets are r l-frame patches of every slot (AMR, downsampling) use this;
/// for the others the batch is left as it is and `Ok(false)` is returned.
pub fn gpu_focal_weights(
    kernel: &FocalKernel,
    batch: &mut PretrainBatch,
    cfg: &BatchConfig,
    model: &AmrConfig,
) -> Result<bool, GpuError> {
    if !cfg.focal_reconstruction || !matches!(model.decoder, DecoderKind::Amr | DecoderKind::Downsampling) {
        return Ok(false);
    }
    let (t, v, l, r) = (model.frames, model.joints, model.patch, model.r);
    let per_person = t * v * 3;
    let clips: Vec<Sequence> =
        batch.x.chunks_exact(per_person).map(|x| Sequence::new("", -1, t, 1, v, x.to_vec())).collect();
    let out = kernel.compute_blocking(&clips, &cfg.focal)?;
    let l_all = model.tokens();
    let mut weight = Vec::with_capacity(batch.weight.len());
    for (p, fused) in out.fused.chunks_exact(t * v).enumerate() {
        let mut w = window_weights_to_patches(fused, t, 1, v, l, r).unwrap_or_default();
        if cfg.loss_region == LossRegion::Masked {
            let masked: Vec<bool> = batch.masked[p * l_all..(p + 1) * l_all].iter().map(|&m| m == 1.0).collect();
            zero_unmasked_patches(&mut w, &masked, model);
        }
        weight.extend(w);
    }
    batch.weight = weight;
    Ok(true)
}
