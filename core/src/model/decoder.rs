//! The pretraining decoder: one of AMR's cross-attention decoder, MAMP's self-attention decoder and the
//! two Table 5 baselines built on MAMP's, each its own type with its own config.

use burn::prelude::*;

use super::{AmrDecoder, DecoderKind, DecoderMaskingDecoder, DownsamplingDecoder, MampDecoder, ModelError};

/// The decoder a model pretrains with.
///
/// Checkpoint keys do not name the variant: the AMR decoder's parameters are `amr.*`, those of the
/// three self-attention decoders `mamp.*` (see [`Decoder::key_prefix`]).
#[derive(Module, Debug)]
pub enum Decoder {
    /// AMR: learnable queries, cross-attention to the visible tokens, r x larger target patches.
    Amr(AmrDecoder),
    /// MAMP: mask tokens and self-attention over all T / l * V tokens.
    Mamp(MampDecoder),
    /// Table 5 baseline 1: MAMP's decoder over the visible tokens and N / r chosen masked ones.
    DecoderMasking(DecoderMaskingDecoder),
    /// Table 5 baseline 2: MAMP's decoder over the token grid pooled by r in time.
    Downsampling(DownsamplingDecoder),
}

/// The burn container type of [`Decoder`], as module visitors see it.
pub(crate) const DECODER_CONTAINER: &str = "Enum:Decoder";

impl Decoder {
    /// Which decoder this is.
    pub fn kind(&self) -> DecoderKind {
        match self {
            Self::Amr(_) => DecoderKind::Amr,
            Self::Mamp(_) => DecoderKind::Mamp,
            Self::DecoderMasking(_) => DecoderKind::DecoderMasking,
            Self::Downsampling(_) => DecoderKind::Downsampling,
        }
    }

    /// The first segment of the checkpoint keys of the variant burn names `variant`: `amr` for the
    /// AMR decoder, `mamp` for the self-attention decoders (the format every checkpoint since the
    /// first uses).
    pub(crate) fn key_prefix(variant: &str) -> &'static str {
        if variant == "Amr" { "amr" } else { "mamp" }
    }

    /// The reconstruction of every target patch from the encoded visible tokens.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `keep`: [B, Nv], `restore`: [B, L] (MAMP and downsampling),
    /// `select`: [B, Nq] (decoder masking) -> AMR and downsampling: [B, (T / (r l)) V, r l 3];
    /// MAMP: [B, L, l 3]; decoder masking: [B, Nq, l 3]
    pub fn forward(
        &self,
        visible: Tensor<3>,
        keep: Tensor<2, Int>,
        restore: Option<Tensor<2, Int>>,
        select: Option<Tensor<2, Int>>,
    ) -> Result<Tensor<3>, ModelError> {
        Ok(match self {
            Self::Amr(d) => d.forward(visible, keep),
            Self::Mamp(d) => d.forward(visible, restore.ok_or(ModelError::MissingRestore)?),
            Self::DecoderMasking(d) => d.forward(visible, keep, select.ok_or(ModelError::MissingSelect)?),
            Self::Downsampling(d) => d.forward(visible, restore.ok_or(ModelError::MissingRestore)?),
        })
    }
}
