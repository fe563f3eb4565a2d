//! Table 5 baseline 2, the downsampling decoder: MAMP's decoder input (visible tokens and mask tokens
//! on the full grid) average-pooled over r consecutive time slots to N / r tokens, self-attention over
//! those, each predicting one r x larger target patch (the AMR targets).

use burn::prelude::*;

use super::{MampDecoder, MampDecoderConfig};

/// The downsampling baseline's shape: MAMP's decoder predicting r l-frame patches, and r.
#[derive(Config, Debug, PartialEq)]
pub struct DownsamplingConfig {
    /// The MAMP decoder it runs (its `pred_slots` is set to `r`).
    pub mamp: MampDecoderConfig,
    /// Time slots pooled into one decoder token.
    pub r: usize,
}

impl DownsamplingConfig {
    /// The decoder on `device`.
    pub fn init(&self, device: &Device) -> DownsamplingDecoder {
        DownsamplingDecoder { mamp: self.mamp.clone().with_pred_slots(self.r).init(device), r: self.r }
    }
}

/// MAMP's decoder over the token grid pooled by r in time.
#[derive(Module, Debug)]
pub struct DownsamplingDecoder {
    mamp: MampDecoder,
    r: usize,
}

impl DownsamplingDecoder {
    /// # Shapes
    /// `visible`: [B, Nv, dim], `restore`: [B, L] -> [B, L / r, r l 3], slot-major as the AMR queries
    pub fn forward(&self, visible: Tensor<3>, restore: Tensor<2, Int>) -> Tensor<3> {
        let x = self.mamp.grid(visible, restore);
        let [b, l_all, d] = x.dims();
        let v = self.mamp.joints();
        let slots = l_all / v / self.r;
        self.mamp.decode(x.reshape([b, slots, self.r, v, d]).mean_dim(2).reshape([b, slots * v, d]))
    }
}
