//! Analytic multiply-accumulate counts of the pretraining forward pass (reference spec 5): the matrix
//! products of the transformer blocks only (patch embedding, decoder input/output projections and
//! the softmax are left out, as in the spec's table).

use super::{AmrConfig, DecoderKind};

/// MACs of one self-attention block over `n` tokens.
fn self_block(n: f64, d: f64, h: f64) -> f64 {
    4.0 * n * d * d + 2.0 * n * n * d + 2.0 * n * d * h
}

/// MACs of one AMR decoder layer: `q` queries attending to `k` visible tokens, then the FFN.
fn cross_block(q: f64, k: f64, d: f64, h: f64) -> f64 {
    2.0 * q * d * d + 2.0 * k * d * d + 2.0 * q * k * d + 2.0 * q * d * h
}

/// Forward MACs of one pretraining pass for one person-sequence, with `visible` encoder tokens:
/// (encoder, decoder).
pub fn pretrain_macs(cfg: &AmrConfig, visible: usize) -> (f64, f64) {
    let (d, h, nv) = (cfg.dim as f64, cfg.mlp as f64, visible as f64);
    let encoder = cfg.encoder_depth as f64 * self_block(nv, d, h);
    let layer = match cfg.decoder {
        DecoderKind::Amr => {
            let q = cfg.queries() as f64;
            cross_block(q, nv, d, h) + if cfg.query_self_attention { self_block(q, d, h) } else { 0.0 }
        }
        DecoderKind::Mamp => self_block(cfg.tokens() as f64, d, h),
        DecoderKind::DecoderMasking => self_block((visible + cfg.queries()) as f64, d, h),
        DecoderKind::Downsampling => self_block(cfg.queries() as f64, d, h),
    };
    (encoder, cfg.decoder_depth as f64 * layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_table_is_reproduced() {
        // Reference spec 5: encoder 0.495 GMACs (75 tokens x 8 layers), MAMP decoder 4.389 (750 x 5),
        // cross-attention decoder 0.483 (125 queries x 75 keys x 5).
        let amr = AmrConfig::new();
        let (enc, dec) = pretrain_macs(&amr, 75);
        assert!((enc / 1e9 - 0.495).abs() < 1e-3, "{enc}");
        assert!((dec / 1e9 - 0.483).abs() < 1e-3, "{dec}");
        let (_, mamp) = pretrain_macs(&amr.clone().with_decoder(DecoderKind::Mamp), 75);
        assert!((mamp / 1e9 - 4.389).abs() < 1e-3, "{mamp}");
    }
}
