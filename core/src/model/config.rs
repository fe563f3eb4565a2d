//! The model configuration, with the paper's defaults.

use super::{AmrDecoderConfig, BlockConfig, MampDecoderConfig};
use crate::error::ConfigError;
use burn::config::Config;

/// Which decoder pretrains the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoderKind {
    /// AMR: learnable queries, cross-attention to the visible tokens, r x larger target patches.
    Amr,
    /// MAMP: mask tokens and self-attention over all T/l * V tokens.
    Mamp,
    /// Table 5 baseline 1: MAMP's self-attention decoder over the visible tokens and only N/r of the
    /// masked ones (chosen at random per sample), predicting those N/r small patches.
    DecoderMasking,
    /// Table 5 baseline 2: MAMP's decoder input (visible tokens and mask tokens on the full grid)
    /// average-pooled over r consecutive time slots to N/r tokens, self-attention over those, each
    /// predicting one r x larger target patch (the AMR targets).
    Downsampling,
}

/// Shapes and sizes of the model. Defaults are the paper's (T 120, l 4, encoder 8 x 256, 8 heads,
/// MLP 1024, AMR decoder depth 5 with r = 6).
#[derive(Config, Debug, PartialEq)]
pub struct AmrConfig {
    /// Frames per clip T.
    #[config(default = 120)]
    pub frames: usize,
    /// Joints V.
    #[config(default = 25)]
    pub joints: usize,
    /// Frames per encoder patch l.
    #[config(default = 4)]
    pub patch: usize,
    /// Model width.
    #[config(default = 256)]
    pub dim: usize,
    /// Attention heads.
    #[config(default = 8)]
    pub heads: usize,
    /// Hidden width of the MLPs.
    #[config(default = 1024)]
    pub mlp: usize,
    /// Encoder blocks.
    #[config(default = 8)]
    pub encoder_depth: usize,
    /// Decoder blocks.
    #[config(default = 5)]
    pub decoder_depth: usize,
    /// The decoder.
    #[config(default = "DecoderKind::Amr")]
    pub decoder: DecoderKind,
    /// AMR target patch factor r: a target patch is r * l frames of one joint (r must divide T / l).
    #[config(default = 6)]
    pub r: usize,
    /// AMR: add the queries' position encodings to the keys as well (see [`super::AmrDecoder`]).
    #[config(default = true)]
    pub key_positions: bool,
    /// AMR: add self-attention among the queries (the Table 6 ablation).
    #[config(default = false)]
    pub query_self_attention: bool,
    /// LayerNorm epsilon.
    #[config(default = 1e-5)]
    pub norm_eps: f64,
}

impl AmrConfig {
    /// The sizes of every block, encoder and decoder alike.
    pub fn block(&self) -> BlockConfig {
        BlockConfig::new(self.dim, self.heads, self.mlp).with_norm_eps(self.norm_eps)
    }

    /// The AMR decoder of this shape.
    pub fn amr_decoder(&self) -> AmrDecoderConfig {
        AmrDecoderConfig::new(self.block(), self.decoder_depth, self.frames, self.patch, self.joints, self.r)
            .with_key_positions(self.key_positions)
            .with_query_self_attention(self.query_self_attention)
    }

    /// The MAMP decoder of this shape (also the core of the two Table 5 baselines).
    pub fn mamp_decoder(&self) -> MampDecoderConfig {
        MampDecoderConfig::new(self.block(), self.decoder_depth, self.frames, self.patch, self.joints)
    }

    /// Encoder tokens per person: (T / l) * V.
    pub fn tokens(&self) -> usize {
        self.frames / self.patch * self.joints
    }

    /// AMR queries: (T / (r l)) * V.
    pub fn queries(&self) -> usize {
        self.frames / (self.r * self.patch) * self.joints
    }

    /// Checks that the shapes fit together, naming the field that does not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields().map_err(ConfigError::from_message)
    }

    fn check_fields(&self) -> Result<(), String> {
        if self.patch == 0 || !self.frames.is_multiple_of(self.patch) {
            return Err(format!("model.patch = {}: must divide model.frames = {}", self.patch, self.frames));
        }
        if self.r == 0 || !(self.frames / self.patch).is_multiple_of(self.r) {
            return Err(format!("model.r = {}: must divide frames / patch = {}", self.r, self.frames / self.patch));
        }
        if self.heads == 0 || !self.dim.is_multiple_of(self.heads) {
            return Err(format!("model.heads = {}: must divide model.dim = {}", self.heads, self.dim));
        }
        if self.joints == 0 || self.encoder_depth == 0 || self.mlp == 0 {
            return Err("model.joints, model.encoder_depth and model.mlp must be at least 1".into());
        }
        Ok(())
    }

    /// Checks a config read from a checkpoint before a model is built from it: [`Self::validate`], and
    /// a lower bound of the model's parameter count (the blocks' matrices, the temporal and joint
    /// embeddings) within the parameters `params` the checkpoint holds, so that a damaged or hostile
    /// config cannot make the model allocate more than its file could fill. `decoder`: whether the
    /// checkpoint holds the decoder too (pretraining) or the encoder only (evaluation).
    pub fn check_fits(&self, params: &super::NamedParams, decoder: bool) -> Result<(), ConfigError> {
        self.check_params_fit(params, decoder).map_err(ConfigError::from_message)
    }

    fn check_params_fit(&self, params: &super::NamedParams, decoder: bool) -> Result<(), String> {
        let values: usize = params.values().map(|t| t.values.len()).sum();
        self.validate()?;
        let (d, m) = (self.dim, self.mlp);
        let bound = (|| {
            let block = d.checked_mul(d)?.checked_mul(4)?.checked_add(d.checked_mul(m)?.checked_mul(2)?)?;
            let depth = if decoder { self.encoder_depth.checked_add(self.decoder_depth)? } else { self.encoder_depth };
            let blocks = block.checked_mul(depth)?;
            let positions = (self.frames / self.patch).checked_add(self.joints)?.checked_mul(d)?;
            blocks.checked_add(positions)
        })();
        match bound {
            Some(b) if b <= values => Ok(()),
            _ => Err(format!(
                "the config (dim {d}, mlp {m}, depths {} + {}, {} joints, {} frames) needs more parameters \
                 than the {values} values the checkpoint holds",
                self.encoder_depth, self.decoder_depth, self.joints, self.frames
            )),
        }
    }
}
