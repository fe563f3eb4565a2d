//! The AMR model (paper section 3): patch embedding, the transformer encoder over visible tokens, and
//! the decoders: AMR's cross-attention decoder over N/r learnable queries, and MAMP's self-attention
//! decoder over all tokens as the baseline. Configs first: `AmrConfig::new().init(&device)`.

mod amr_decoder;
mod attention;
mod block;
mod config;
mod decoder;
mod decoder_masking;
mod downsampling;
mod embed;
mod encoder;
mod flops;
pub mod init;
mod mamp_decoder;
mod norm;
mod params;
mod patches;

pub use amr_decoder::{AmrDecoder, AmrDecoderConfig};
pub use attention::{Attention, linear_rows};
pub use block::{Block, BlockConfig, CrossBlock, DropPath, Mlp};
pub use config::{AmrConfig, DecoderKind};
pub use decoder::Decoder;
pub use decoder_masking::{DecoderMaskingConfig, DecoderMaskingDecoder};
pub use downsampling::{DownsamplingConfig, DownsamplingDecoder};
pub use embed::{PatchEmbed, patchify};
pub use encoder::Encoder;
pub use flops::pretrain_macs;
pub use mamp_decoder::{MampDecoder, MampDecoderConfig};
pub use params::{
    NamedParams, NamedTensor, ParamMismatch, check_params, load_params, named_params, named_params_async, param_shapes,
};
pub(crate) use params::{ParamPath, read_back_async};
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
}

/// The pretraining model: encoder plus one decoder.
#[derive(Module, Debug)]
pub struct AmrModel {
    /// Patch embedding, blocks and final norm.
    pub encoder: Encoder,
    /// The decoder the config asks for.
    pub decoder: Decoder,
}

impl AmrConfig {
    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> AmrModel {
        let encoder = Encoder::new(self, device);
        let decoder = match self.decoder {
            DecoderKind::Amr => Decoder::Amr(self.amr_decoder().init(device)),
            DecoderKind::Mamp => Decoder::Mamp(self.mamp_decoder().init(device)),
            DecoderKind::DecoderMasking => {
                Decoder::DecoderMasking(DecoderMaskingConfig::new(self.mamp_decoder()).init(device))
            }
            DecoderKind::Downsampling => {
                Decoder::Downsampling(DownsamplingConfig::new(self.mamp_decoder(), self.r).init(device))
            }
        };
        AmrModel { encoder, decoder }
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
        self.decoder.forward(visible, keep, restore, select)
    }
}

#[cfg(test)]
mod tests;
