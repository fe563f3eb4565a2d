//! Sanity tests that catch a model that cannot learn: with augmentation off and one fixed batch of
//! real clips (fixed crops and masks), a tiny model of every decoder kind and target kind must drive
//! its loss far below the trivial predictor's. A model whose weights do not train, whose queries do
//! not reach their tokens or whose targets do not line up with its predictions stays near ratio 1.

use burn::optim::GradientsParams;

use super::trainer::batch_loss;
use super::{Masking, PretrainConfig, TargetKind, make_batch};
use crate::model::{AmrConfig, DecoderKind};
use crate::rng::SeededRng;
use crate::test_data::web_demo;
use crate::train::AdamW;

/// Steps of AdamW at lr 2e-3 on the fixed batch.
const STEPS: usize = 150;

/// The loss must end below this share of the trivial predictor's.
const MAX_RATIO: f32 = 0.1;

fn config(decoder: DecoderKind, target: TargetKind) -> PretrainConfig {
    let mut c = PretrainConfig {
        model: AmrConfig::new()
            .with_joints(21)
            .with_frames(24)
            .with_r(2)
            .with_dim(64)
            .with_heads(4)
            .with_mlp(128)
            .with_encoder_depth(2)
            .with_decoder_depth(1)
            .with_decoder(decoder),
        ..Default::default()
    };
    c.clip.frames = 24;
    c.clip.min_crop_frames = 24;
    (c.clip.crop_min, c.clip.crop_max, c.clip.rotation) = (1.0, 1.0, 0.0);
    c.batch.masking = Masking::Random;
    c.batch.mask_ratio = 0.5;
    c.batch.target = target;
    c
}

/// (first loss, last loss, trivial loss) after [`STEPS`] steps on one fixed batch of 4 clips.
fn overfit(decoder: DecoderKind, target: TargetKind) -> (f32, f32, f32) {
    let cfg = config(decoder, target);
    let ds = web_demo();
    let device = crate::backend::cpu_device().autodiff();
    let batch =
        make_batch(&ds, &[0, 9, 18, 27], &cfg.clip, &cfg.batch, &cfg.model, &mut SeededRng::new(1)).expect("a batch");
    let mut model = cfg.model.init_seeded(&device, 0);
    let mut optim = AdamW::new(0.9, 0.95, 1e-8, 0.0);
    let (mut first, mut last, mut trivial) = (f32::NAN, f32::NAN, f32::NAN);
    for step in 0..STEPS {
        let (loss, t) = batch_loss(&model, &cfg, batch.clone(), &device).expect("a loss");
        let value = loss.clone().into_scalar::<f32>();
        if step == 0 {
            first = value;
        }
        (last, trivial) = (value, t);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(2e-3, model, grads);
    }
    (first, last, trivial)
}

fn check(decoder: DecoderKind, target: TargetKind) {
    let (first, last, trivial) = overfit(decoder, target);
    eprintln!("{decoder:?} / {target:?}: loss {first:.4} -> {last:.4}, trivial {trivial:.4}");
    assert!(trivial > 0.0 && last.is_finite(), "{decoder:?} / {target:?}: {last} vs {trivial}");
    assert!(
        last < MAX_RATIO * trivial,
        "{decoder:?} / {target:?}: after {STEPS} steps on one batch the loss is {last:.4}, {:.2} of the trivial \
         predictor's {trivial:.4}: the model does not learn",
        last / trivial
    );
}

#[test]
fn amr_decoder_overfits_one_batch() {
    check(DecoderKind::Amr, TargetKind::Nat);
    check(DecoderKind::Amr, TargetKind::Raw);
}

#[test]
fn mamp_decoder_overfits_one_batch() {
    // MAMP's objective has motion targets whatever `batch.target` says.
    check(DecoderKind::Mamp, TargetKind::Nat);
}

#[test]
fn decoder_masking_overfits_one_batch() {
    check(DecoderKind::DecoderMasking, TargetKind::Nat);
    check(DecoderKind::DecoderMasking, TargetKind::Raw);
}

#[test]
fn downsampling_decoder_overfits_one_batch() {
    check(DecoderKind::Downsampling, TargetKind::Nat);
    check(DecoderKind::Downsampling, TargetKind::Raw);
}
