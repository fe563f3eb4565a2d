use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use super::*;
use crate::backend::cpu_device;

fn tiny(decoder: DecoderKind) -> AmrConfig {
    AmrConfig::new()
        .with_frames(24)
        .with_joints(5)
        .with_dim(32)
        .with_heads(4)
        .with_mlp(64)
        .with_encoder_depth(2)
        .with_decoder_depth(2)
        .with_r(3)
        .with_decoder(decoder)
}

fn input(b: usize, cfg: &AmrConfig, device: &Device) -> Tensor<4> {
    let n = b * cfg.frames * cfg.joints * 3;
    let v: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
    Tensor::from_data(TensorData::new(v, [b, cfg.frames, cfg.joints, 3]), device)
}

fn keep(b: usize, idx: &[i64], device: &Device) -> Tensor<2, Int> {
    let v: Vec<i64> = (0..b).flat_map(|_| idx.iter().copied()).collect();
    Tensor::from_data(TensorData::new(v, [b, idx.len()]), device)
}

#[test]
fn patchify_orders_frames_then_xyz_within_a_patch() {
    let device = cpu_device();
    // x[0, t, v, c] = 100 t + 10 v + c
    let v: Vec<f32> =
        (0..8).flat_map(|t| (0..2).flat_map(move |j| (0..3).map(move |c| (100 * t + 10 * j + c) as f32))).collect();
    let x = Tensor::<4>::from_data(TensorData::new(v, [1, 8, 2, 3]), &device);
    let p = patchify(x, 4).into_data().try_to_vec::<f32>().unwrap();
    // Patch (slot 1, joint 1): frames 4..8 of joint 1; element u * 3 + c = 100 (4 + u) + 10 + c.
    let at = (2 + 1) * 12; // (slot 1 * V 2 + joint 1) * 12
    for u in 0..4 {
        for c in 0..3 {
            assert_eq!(p[at + u * 3 + c], (100 * (4 + u) + 10 + c) as f32);
        }
    }
}

/// `restore` for visible tokens `kept` out of `tokens`, and the first `nq` masked tokens as `select`.
fn restore_select(
    b: usize,
    kept: &[usize],
    tokens: usize,
    nq: usize,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let masked: Vec<usize> = (0..tokens).filter(|j| !kept.contains(j)).collect();
    let order: Vec<usize> = kept.iter().copied().chain(masked.iter().copied()).collect();
    let mut restore = vec![0i64; tokens];
    for (i, &j) in order.iter().enumerate() {
        restore[j] = i as i64;
    }
    let restore: Vec<i64> = (0..b).flat_map(|_| restore.clone()).collect();
    let select: Vec<i64> = (0..b).flat_map(|_| masked[..nq].iter().map(|&j| j as i64)).collect();
    (
        Tensor::from_data(TensorData::new(restore, [b, tokens]), device),
        Tensor::from_data(TensorData::new(select, [b, nq]), device),
    )
}

#[test]
fn shapes_of_every_decoder_and_the_paper_counts() {
    let device = cpu_device();
    let cfg = tiny(DecoderKind::Amr);
    cfg.validate().unwrap();
    assert_eq!((cfg.tokens(), cfg.queries()), (30, 10));
    let m = cfg.init(&device);
    let out = m.forward_pretrain(input(2, &cfg, &device), keep(2, &[0, 7, 29], &device), None, None).unwrap();
    assert_eq!(out.dims(), [2, 10, 36]);
    let all = m.encoder.forward_all(input(2, &cfg, &device));
    assert_eq!(all.dims(), [2, 30, 32]);

    let cfg = tiny(DecoderKind::Mamp);
    let m = cfg.init(&device);
    let (r, sel) = restore_select(2, &[0, 7, 29], 30, 10, &device);
    let out =
        m.forward_pretrain(input(2, &cfg, &device), keep(2, &[0, 7, 29], &device), Some(r.clone()), None).unwrap();
    assert_eq!(out.dims(), [2, 30, 12]);
    assert_eq!(
        m.forward_pretrain(input(1, &cfg, &device), keep(1, &[0], &device), None, None).unwrap_err(),
        ModelError::MissingRestore
    );
    // Table 5 baselines: decoder masking predicts N/r small patches, downsampling N/r large ones.
    let m = tiny(DecoderKind::DecoderMasking).init(&device);
    let out = m.forward_pretrain(input(2, &cfg, &device), keep(2, &[0, 7, 29], &device), None, Some(sel)).unwrap();
    assert_eq!(out.dims(), [2, 10, 12]);
    assert_eq!(
        m.forward_pretrain(input(1, &cfg, &device), keep(1, &[0], &device), None, None).unwrap_err(),
        ModelError::MissingSelect
    );
    let m = tiny(DecoderKind::Downsampling).init(&device);
    let out = m.forward_pretrain(input(2, &cfg, &device), keep(2, &[0, 7, 29], &device), Some(r), None).unwrap();
    assert_eq!(out.dims(), [2, 10, 36]);

    let paper = AmrConfig::new();
    paper.validate().unwrap();
    assert_eq!((paper.tokens(), paper.queries()), (750, 125));
    assert!(AmrConfig::new().with_r(7).validate().unwrap_err().message.contains("model.r"));
}

struct GradCheck<'a> {
    grads: &'a GradientsParams,
    total: usize,
    missing: Vec<String>,
}

impl ModuleVisitor for GradCheck<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.total += 1;
        match self.grads.get::<D>(param.id) {
            Some(g) if g.clone().abs().sum().into_scalar::<f32>() > 0.0 => {}
            _ => self.missing.push(format!("{:?}", param.val().dims())),
        }
    }
}

#[test]
fn gradients_reach_every_parameter() {
    let device = cpu_device().autodiff();
    let kinds = [
        (DecoderKind::Amr, false),
        (DecoderKind::Amr, true),
        (DecoderKind::Mamp, false),
        (DecoderKind::DecoderMasking, false),
        (DecoderKind::Downsampling, false),
    ];
    // Both constructors: the seeded one re-draws every weight, and the re-drawn tensors must stay
    // trainable (a frozen weight matrix lets only biases and norms learn).
    for ((kind, q_self), seeded) in kinds.into_iter().flat_map(|k| [(k, false), (k, true)]) {
        let cfg = tiny(kind).with_query_self_attention(q_self);
        let m = if seeded { cfg.init_seeded(&device, 3) } else { cfg.init(&device) };
        let kept = [1, 4, 9, 22];
        let (r, sel) = restore_select(2, &kept, 30, 10, &device);
        let out =
            m.forward_pretrain(input(2, &cfg, &device), keep(2, &[1, 4, 9, 22], &device), Some(r), Some(sel)).unwrap();
        let loss = (out - 0.3).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let mut check = GradCheck { grads: &grads, total: 0, missing: vec![] };
        m.visit(&mut check);
        assert!(check.total > 20);
        assert!(
            check.missing.is_empty(),
            "{kind:?} (seeded: {seeded}): no gradient for parameters of shapes {:?}",
            check.missing
        );
    }
}

#[test]
fn a_seed_fixes_the_initialisation() {
    let device = cpu_device();
    let cfg = tiny(DecoderKind::Amr);
    let run = |seed| {
        let m = cfg.init_seeded(&device, seed);
        m.forward_pretrain(input(1, &cfg, &device), keep(1, &[2, 3], &device), None, None)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    // Another user of the device generator in between changes nothing.
    let a = run(5);
    let _noise = Tensor::<2>::random([64, 64], burn::tensor::Distribution::Default, &device);
    assert_eq!(a, run(5));
    assert_ne!(a, run(6));
}

#[test]
fn parameters_round_trip_by_name_and_mismatches_are_listed() {
    let dev = cpu_device();
    let cfg = AmrConfig::new()
        .with_joints(5)
        .with_frames(8)
        .with_r(2)
        .with_dim(16)
        .with_heads(2)
        .with_mlp(32)
        .with_encoder_depth(2)
        .with_decoder_depth(1);
    let a = cfg.init_seeded(&dev, 1);
    let named = named_params(&a);
    for key in ["encoder.blocks.1.attn.query.weight", "encoder.embed.temp_embed", "encoder.norm.gamma", "amr.queries"] {
        assert!(named.contains_key(key), "{key} missing from {:?}", named.keys().collect::<Vec<_>>());
    }
    let b = load_params(cfg.init_seeded(&dev, 2), &named).unwrap();
    assert_eq!(named_params(&b), named);
    let other = cfg.clone().with_dim(8).with_heads(2).with_encoder_depth(3);
    let err = load_params(other.init(&dev), &named).map(|_| ()).unwrap_err().1;
    assert!(err.shapes.iter().any(|s| s.starts_with("encoder.norm.gamma")), "{err}");
    assert!(err.missing.iter().any(|s| s.starts_with("encoder.blocks.2.")), "{err}");
    assert!(err.to_string().contains("mismatched shapes"), "{err}");
}

#[test]
fn the_classification_pass_is_the_encoder_pass_and_reads_the_last_attention_only_when_asked() {
    let device = cpu_device().autodiff();
    let cfg = tiny(DecoderKind::Amr);
    let enc = Encoder::new(&cfg, &device);
    let x = input(3, &cfg, &device);
    let flat = |t: Tensor<3>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    let reference = flat(enc.forward_all(x.clone()));
    let (plain, none) = enc.forward_classify(x.clone(), None, &[], false);
    let (with, weights) = enc.forward_classify(x.clone(), None, &[], true);
    assert!(none.is_none());
    for tokens in [flat(plain), flat(with.clone())] {
        let diff = tokens.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "tokens differ from forward_all by {diff}");
    }
    // The weights are those of the last block for its own input, each row a distribution.
    let mut h = enc.embed.forward(x);
    for b in &enc.blocks[..enc.blocks.len() - 1] {
        h = b.forward(h);
    }
    let expected = enc.blocks.last().unwrap().attention_weights(h).into_data().try_to_vec::<f32>().unwrap();
    let weights = weights.expect("weights were asked for");
    let l = cfg.tokens();
    assert_eq!(weights.dims(), [3, cfg.heads, l, l]);
    let weights = weights.into_data().try_to_vec::<f32>().unwrap();
    let diff = weights.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(diff < 1e-6, "weights differ by {diff}");
    for row in weights.chunks(l) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    // Reading the weights leaves the pass differentiable: every parameter still gets a gradient.
    let grads = GradientsParams::from_grads((with - 0.3).powi_scalar(2).mean().backward(), &enc);
    let mut check = GradCheck { grads: &grads, total: 0, missing: vec![] };
    enc.visit(&mut check);
    assert!(check.total > 10 && check.missing.is_empty(), "no gradient for {:?}", check.missing);
}

#[test]
fn every_building_block_keeps_its_documented_shape() {
    let device = cpu_device();
    let cfg = tiny(DecoderKind::Amr);
    let x = Tensor::<3>::random([2, 7, 32], burn::tensor::Distribution::Default, &device);
    let mem = Tensor::<3>::random([2, 5, 32], burn::tensor::Distribution::Default, &device);
    assert_eq!(Mlp::new(32, 64, &device).forward(x.clone()).dims(), [2, 7, 32]);
    let block = cfg.block().init(&device);
    assert_eq!(block.forward(x.clone()).dims(), [2, 7, 32]);
    assert_eq!(block.attention_weights(x.clone()).dims(), [2, 4, 7, 7]);
    for q_self in [false, true] {
        let c = cfg.clone().with_query_self_attention(q_self);
        assert_eq!(
            c.block().init_cross(c.query_self_attention, &device).forward(x.clone(), mem.clone()).dims(),
            [2, 7, 32]
        );
    }
    let embed = PatchEmbed::new(&cfg, &device);
    assert_eq!(embed.forward(input(3, &cfg, &device)).dims(), [3, 30, 32], "(T / l) V tokens, time-major");
    assert_eq!(patchify(input(3, &cfg, &device), 4).dims(), [3, 6, 5, 12]);
    let enc = Encoder::new(&cfg, &device);
    assert_eq!(enc.forward_visible(input(2, &cfg, &device), keep(2, &[3, 4], &device)).dims(), [2, 2, 32]);
    let grid = Tensor::<5>::random([2, 3, 24, 5, 3], burn::tensor::Distribution::Default, &device);
    assert_eq!(enc.forward_grid(grid.clone()).dims(), [2, 3, 6, 5, 32]);
    assert_eq!(enc.forward_pooled(grid).dims(), [2, 32]);
    let mem_keep = keep(2, &[0, 3, 7, 11, 29], &device);
    for key_positions in [false, true] {
        let dec = cfg.clone().with_key_positions(key_positions).amr_decoder().init(&device);
        let out = dec.forward(mem.clone(), mem_keep.clone());
        assert_eq!(out.dims(), [2, 10, 36], "(T / (r l)) V queries, r l 3 values");
    }
}

#[test]
fn a_checkpoint_config_must_fit_the_values_its_file_holds() {
    let dev = cpu_device();
    for kind in [DecoderKind::Amr, DecoderKind::Mamp, DecoderKind::DecoderMasking, DecoderKind::Downsampling] {
        let cfg = tiny(kind);
        let params = named_params(&cfg.init(&dev));
        cfg.check_fits(&params, true).unwrap();
        let encoder: NamedParams =
            params.iter().filter(|(k, _)| k.starts_with("encoder.")).map(|(k, v)| (k.clone(), v.clone())).collect();
        cfg.check_fits(&encoder, false).unwrap();
        // The encoder alone cannot stand for a model with a decoder.
        assert!(cfg.check_fits(&encoder, true).is_err(), "{kind:?}");
        // A config claiming a far larger model than the file holds is refused before anything is built.
        let huge = cfg.clone().with_dim(1 << 20).with_heads(1);
        let e = huge.check_fits(&params, true).unwrap_err();
        assert!(e.message.contains("dim 1048576") && e.message.contains("values the checkpoint holds"), "{e}");
        let overflow = cfg.clone().with_dim(1 << 40).with_heads(1).with_mlp(1 << 40);
        assert!(overflow.check_fits(&params, true).is_err());
        assert!(cfg.clone().with_heads(0).check_fits(&params, true).unwrap_err().message.contains("model.heads"));
    }
}

#[test]
fn checkpoint_keys_keep_their_format_for_every_decoder() {
    // The keys are the checkpoint format: `amr.*` for the AMR decoder, `mamp.*` for the three
    // self-attention decoders, whichever type holds the parameters; the shapes follow the decoder.
    let dev = cpu_device();
    let mamp_keys = ["mamp.embed.weight", "mamp.mask_token", "mamp.temp_embed", "mamp.blocks.1.attn.query.weight"];
    let cases = [
        (
            DecoderKind::Amr,
            "amr.",
            vec!["amr.queries", "amr.key_temp", "amr.blocks.1.cross.key.weight"],
            "amr.head.2.weight",
            36,
        ),
        (DecoderKind::Mamp, "mamp.", mamp_keys.to_vec(), "mamp.pred.weight", 12),
        (DecoderKind::DecoderMasking, "mamp.", mamp_keys.to_vec(), "mamp.pred.weight", 12),
        (DecoderKind::Downsampling, "mamp.", mamp_keys.to_vec(), "mamp.pred.weight", 36),
    ];
    for (kind, prefix, keys, out_key, out_width) in cases {
        let model = tiny(kind).init(&dev);
        assert_eq!(model.decoder.kind(), kind);
        let shapes = param_shapes(&model);
        for k in keys {
            assert!(shapes.contains_key(k), "{kind:?}: no key {k} in {:?}", shapes.keys().collect::<Vec<_>>());
        }
        assert_eq!(shapes[out_key], vec![32, out_width], "{kind:?}: {out_key}");
        assert!(shapes.contains_key("encoder.blocks.1.mlp.fc2.weight"));
        let stray: Vec<_> = shapes.keys().filter(|k| !k.starts_with("encoder.") && !k.starts_with(prefix)).collect();
        assert!(stray.is_empty(), "{kind:?}: keys outside encoder.* and {prefix}*: {stray:?}");
    }
}
