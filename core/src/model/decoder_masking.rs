//! Table 5 baseline 1, decoder masking: MAMP's self-attention decoder over the visible tokens and
//! only N / r of the masked ones (chosen at random per sample), predicting those N / r small patches.

use burn::prelude::*;

use super::{MampDecoder, MampDecoderConfig};

/// The decoder-masking baseline's shape: MAMP's decoder.
#[derive(Config, Debug, PartialEq)]
pub struct DecoderMaskingConfig {
    /// The MAMP decoder it runs.
    pub mamp: MampDecoderConfig,
}

impl DecoderMaskingConfig {
    /// The decoder on `device`.
    pub fn init(&self, device: &Device) -> DecoderMaskingDecoder {
        DecoderMaskingDecoder { mamp: self.mamp.init(device) }
    }
}

/// MAMP's decoder fed the visible tokens and mask tokens at the chosen positions only.
#[derive(Module, Debug)]
pub struct DecoderMaskingDecoder {
    mamp: MampDecoder,
}

impl DecoderMaskingDecoder {
    /// The visible tokens and mask tokens at the `select` positions, each with its decoder position
    /// embedding; predictions for the selected tokens.
    ///
    /// # Shapes
    /// `visible`: [B, Nv, dim], `keep`: [B, Nv], `select`: [B, Nq] -> [B, Nq, l 3]
    pub fn forward(&self, visible: Tensor<3>, keep: Tensor<2, Int>, select: Tensor<2, Int>) -> Tensor<3> {
        let [b, nv, d] = visible.dims();
        let nq = select.dims()[1];
        let pos = self.mamp.positions().repeat_dim(0, b);
        let at = |idx: Tensor<2, Int>| {
            let n = idx.dims()[1];
            pos.clone().gather(1, idx.unsqueeze_dim::<3>(2).repeat_dim(2, d)).reshape([b, n, d])
        };
        let h = self.mamp.embed(visible) + at(keep);
        let masks = self.mamp.mask_tokens(b, nq) + at(select);
        self.mamp.decode(Tensor::cat(vec![h, masks], 1)).slice([0..b, nv..nv + nq])
    }
}
