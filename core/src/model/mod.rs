//! The AMR model (paper section 3): patch embedding, the transformer encoder over visible tokens, and
//! the decoders: AMR's cross-attention decoder over N/r learnable queries, and MAMP's self-attention
//! decoder over all tokens as the baseline. Configs first: `AmrConfig::new().init(&device)`.

mod block;
mod config;
mod decoder;
mod embed;
mod encoder;
mod flops;
pub mod init;
mod params;
mod patches;

pub use block::{Block, CrossBlock, DropPath, Mlp};
pub use config::{AmrConfig, DecoderKind};
pub use decoder::{AmrDecoder, MampDecoder};
pub use embed::{PatchEmbed, patchify};
pub use encoder::Encoder;
pub use flops::pretrain_macs;
pub(crate) use params::read_back_async;
pub use params::{
    NamedParams, NamedTensor, ParamMismatch, check_params, load_params, named_params, named_params_async, param_shapes,
};
pub use patches::patch_layout;

use burn::prelude::*;

/// A model used in a way its configuration does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The MAMP decoder was called without the un-shuffle indices.
    #[error("the MAMP decoder needs `restore` indices")]
    MissingRestore,
    /// The decoder-masking baseline was called without the chosen target tokens.
    #[error("the decoder-masking baseline needs `select` indices")]
    MissingSelect,
    /// The model has no decoder.
    #[error("a model without a decoder cannot pretrain")]
    NoDecoder,
}

/// The pretraining model: encoder plus one decoder.
#[derive(Module, Debug)]
pub struct AmrModel {
    /// Patch embedding, blocks and final norm.
    pub encoder: Encoder,
    /// AMR cross-attention decoder (when the config asks for it).
    pub amr: Option<AmrDecoder>,
    /// MAMP self-attention decoder (when the config asks for it).
    pub mamp: Option<MampDecoder>,
}

impl AmrConfig {
    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> AmrModel {
        let encoder = Encoder::new(self, device);
        let (amr, mamp) = match self.decoder {
            DecoderKind::Amr => (Some(AmrDecoder::new(self, device)), None),
            DecoderKind::Mamp | DecoderKind::DecoderMasking | DecoderKind::Downsampling => {
                (None, Some(MampDecoder::new(self, device)))
            }
        };
        AmrModel { encoder, amr, mamp }
    }

    /// Builds the model on `device` with every random parameter drawn from `seed`
    /// ([`init::SeededInit`]): the same seed gives the same model on every backend.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> AmrModel {
        self.init(device).map(&mut init::SeededInit::new(seed))
    }
}

impl AmrModel {
    /// Pretraining forward pass: the reconstruction of every target patch.
    ///
    /// # Shapes
    /// `x`: [B, T, V, 3] (persons folded into B), `keep`: [B, Nv] visible token indices,
    /// `restore`: [B, L] (MAMP and downsampling decoders: position of token j in `keep ++ masked`),
    /// `select`: [B, Nq] (decoder masking: the masked tokens to predict)
    /// -> AMR and downsampling: [B, (T / (r l)) * V, r l 3]; MAMP: [B, L, l 3];
    /// decoder masking: [B, Nq, l 3]
    pub fn forward_pretrain(
        &self,
        x: Tensor<4>,
        keep: Tensor<2, Int>,
        restore: Option<Tensor<2, Int>>,
        select: Option<Tensor<2, Int>>,
    ) -> Result<Tensor<3>, ModelError> {
        let visible = self.encoder.forward_visible(x, keep.clone());
        match (&self.amr, &self.mamp) {
            (Some(d), _) => Ok(d.forward(visible, keep)),
            (None, Some(d)) if d.selects() => {
                Ok(d.forward_selected(visible, keep, select.ok_or(ModelError::MissingSelect)?))
            }
            (None, Some(d)) => Ok(d.forward(visible, restore.ok_or(ModelError::MissingRestore)?)),
            (None, None) => Err(ModelError::NoDecoder),
        }
    }
}

#[cfg(test)]
mod tests;
