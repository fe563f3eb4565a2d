//! Protocol tests on tiny, hand-made data where the right answer is known.

use burn::prelude::*;
use burn::tensor::TensorData;

use super::*;
use crate::data::{Dataset, Sequence};
use crate::model::{AmrConfig, NamedParams, load_params, named_params};
use crate::rng::SeededRng;
use crate::skeleton::Layout;

/// Three classes told apart by posture (joint `a` sits 0, 1 or 2 m further along x from the root and
/// joint `b` as far along z), with small jitter: linearly separable in the pooled features of any
/// encoder, also after the clips are centred on the root.
fn separable(per_class: usize) -> Dataset {
    let names: Vec<String> = ["root", "a", "b"].iter().map(|s| s.to_string()).collect();
    let layout = Layout::from_parents("tiny", &[-1, 0, 0], &names).unwrap();
    let mut ds = Dataset::new(layout, 1, 30.0);
    ds.label_names = vec!["left".into(), "middle".into(), "right".into()];
    let mut rng = SeededRng::new(9);
    for c in 0..3 {
        for i in 0..per_class {
            let pos: Vec<f32> = (0..12 * 3)
                .flat_map(|k| {
                    let joint = k % 3;
                    let reach = if joint == 0 { 0.0 } else { c as f32 };
                    let (x, z) = if joint == 1 { (reach, 0.0) } else { (0.0, reach) };
                    [0.05 * rng.normal() as f32 + 0.1 * joint as f32 + x, 1.0 + 0.01 * (k / 3) as f32, 0.2 + z]
                })
                .collect();
            let mut s = Sequence::new(format!("c{c}-{i}"), c, 12, 1, 3, pos);
            s.attributes.insert("split".into(), i64::from(i % 4 == 0));
            ds.sequences.push(s);
        }
    }
    ds
}

fn config(protocol: Protocol) -> EvalConfig {
    let mut c = EvalConfig::for_protocol(protocol);
    c.model = AmrConfig::new()
        .with_frames(8)
        .with_joints(3)
        .with_dim(16)
        .with_heads(2)
        .with_mlp(32)
        .with_encoder_depth(2)
        .with_r(1);
    c.clip.frames = 8;
    c.clip.min_crop_frames = 4;
    c.clip.rotation = 0.0;
    c.split = Split::default();
    c.batch_size = 8;
    c.epochs = 15;
    c.finetune.hidden = 32;
    c.maskclr.hidden = 32;
    c
}

/// A whole run from a random encoder: the trainer, its first and its last epoch.
fn train_all(cfg: &EvalConfig, ds: &Dataset, split: &SplitIndices) -> (EvalTrainer, EpochReport, EpochReport) {
    let mut t = EvalTrainer::new(cfg.clone(), ds, split, None, &dev()).unwrap();
    let first = t.epoch_step(ds).unwrap();
    let mut last = first.clone();
    while t.epoch() < cfg.epochs {
        last = t.epoch_step(ds).unwrap();
    }
    (t, first, last)
}

/// Runs `cfg` for one epoch fewer than `unbroken` has done, saves and reads back its checkpoint,
/// resumes it for the last epoch and asserts the same history (but for the wall-clock) as `unbroken`
/// and the same saved model as `unbroken_model` (`unbroken`'s); returns the checkpoint read back.
fn assert_resumes_exactly(
    cfg: EvalConfig,
    ds: &Dataset,
    split: &SplitIndices,
    unbroken: &EvalTrainer,
    unbroken_model: &NamedParams,
    what: &str,
) -> EvalCheckpoint {
    let mut first = EvalTrainer::new(cfg, ds, split, None, &dev()).unwrap();
    for _ in 1..unbroken.epoch() {
        first.epoch_step(ds).unwrap();
    }
    let bytes = first.checkpoint().unwrap().to_bytes().unwrap();
    let saved = EvalCheckpoint::from_bytes(&bytes, std::path::Path::new("mem")).unwrap();
    let mut resumed = EvalTrainer::resume(&saved, ds, &dev()).unwrap();
    resumed.epoch_step(ds).unwrap();
    let strip =
        |h: &[EpochReport]| h.iter().map(|r| (r.loss, r.lr, r.test, r.current, r.current_norm)).collect::<Vec<_>>();
    assert_eq!(strip(resumed.history()), strip(unbroken.history()), "{what}");
    assert_eq!(&resumed.checkpoint().unwrap().model, unbroken_model, "{what}");
    saved
}

/// Asserts that `probs` is the row-wise softmax of `scores` ([N, classes] each), to 1e-4.
fn assert_softmax_of(scores: &[f32], probs: &[f32], classes: usize, what: &str) {
    for (row, (s, q)) in scores.chunks(classes).zip(probs.chunks(classes)).enumerate() {
        let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = s.iter().map(|v| (v - max).exp()).sum();
        for (a, b) in s.iter().zip(q) {
            let want = (a - max).exp() / sum;
            assert!((want - b).abs() < 1e-4, "{what} row {row}: {want} vs {b}");
        }
    }
}

fn dev() -> Device {
    crate::backend::cpu_device()
}

#[test]
fn linear_probe_and_knn_separate_separable_classes() {
    let ds = separable(16);
    let cfg = config(Protocol::Linear);
    let split = cfg.split.apply(&ds).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (36, 12));
    let (t, first, last) = train_all(&cfg, &ds, &split);
    assert!(last.loss < first.loss, "loss {} -> {}", first.loss, last.loss);
    assert_eq!(last.test.top1, 100.0, "{:?}", t.history());
    let r = t.results("tiny", "");
    assert_eq!((r.epochs, r.last.top1, r.train_sequences, r.test_sequences), (15, 100.0, 36, 12));
    assert!(r.markdown().contains("| linear |") && r.markdown().contains("100.00"));

    let mut k = config(Protocol::Knn);
    k.knn.k = 3;
    let knn = knn_eval(&k, &ds, &split, None, &dev()).unwrap();
    assert_eq!(knn.top1, 1.0, "kNN reports shares");
}

#[test]
fn linear_probe_resumes_exactly_and_cached_views_run() {
    let ds = separable(8);
    let mut cfg = config(Protocol::Linear);
    cfg.epochs = 4;
    let split = cfg.split.apply(&ds).unwrap();
    let mut unbroken = EvalTrainer::new(cfg.clone(), &ds, &split, None, &dev()).unwrap();
    for _ in 0..4 {
        unbroken.epoch_step(&ds).unwrap();
    }
    let mut first = EvalTrainer::new(cfg.clone(), &ds, &split, None, &dev()).unwrap();
    first.epoch_step(&ds).unwrap();
    first.epoch_step(&ds).unwrap();
    let bytes = first.checkpoint().unwrap().to_bytes().unwrap();
    let ckpt = EvalCheckpoint::from_bytes(&bytes, std::path::Path::new("mem")).unwrap();
    let mut resumed = EvalTrainer::resume(&ckpt, &ds, &dev()).unwrap();
    resumed.epoch_step(&ds).unwrap();
    resumed.epoch_step(&ds).unwrap();
    let strip = |h: &[EpochReport]| h.iter().map(|r| (r.loss, r.lr, r.test)).collect::<Vec<_>>();
    assert_eq!(strip(resumed.history()), strip(unbroken.history()));

    cfg.linear.cached_views = 2;
    let mut cached = EvalTrainer::new(cfg, &ds, &split, None, &dev()).unwrap();
    let a = cached.epoch_step(&ds).unwrap();
    assert!(a.loss.is_finite());
}

#[test]
fn finetune_learns_and_the_semi_supervised_subset_is_seeded() {
    let ds = separable(16);
    let mut cfg = config(Protocol::Finetune);
    cfg.finetune.lr = 3e-3;
    cfg.finetune.warmup_epochs = 1.0;
    let split = cfg.split.apply(&ds).unwrap();
    let (t, first, last) = train_all(&cfg, &ds, &split);
    assert!(last.loss < first.loss, "loss {} -> {}", first.loss, last.loss);
    assert!(last.test.top1 >= 90.0, "{:?}", t.history());

    // Semi-supervised: 25 % of each class's 12 training sequences = 3, the same for the same seed.
    let a = label_subset(&ds, &split.train, 0.25, 4);
    assert_eq!(a, label_subset(&ds, &split.train, 0.25, 4));
    assert_ne!(a, label_subset(&ds, &split.train, 0.25, 5));
    assert_eq!(a.len(), 9);
    for c in 0..3 {
        assert_eq!(a.iter().filter(|&&i| ds.sequences[i].label == c).count(), 3);
    }
    assert!(a.iter().all(|i| split.train.contains(i)), "drawn from the training set only");
    let mut semi = config(Protocol::Semi);
    semi.finetune.label_fraction = 0.25;
    semi.seed = 4;
    let t = EvalTrainer::new(semi, &ds, &split, None, &dev()).unwrap();
    assert_eq!(t.labelled(), a.as_slice());
}

#[test]
fn maskclr_adds_the_contrastive_terms_after_its_start_epoch_and_loads_encoders() {
    let ds = separable(8);
    let mut cfg = config(Protocol::Maskclr);
    cfg.epochs = 2;
    cfg.maskclr.start_epoch = 1;
    let split = cfg.split.apply(&ds).unwrap();
    // A "pretrained" encoder: the encoder of another seeded classifier.
    let donor = classifier::Classifier::new(&cfg.model, 32, 3, 77, &dev());
    let init = named_params(&donor);
    let mut t = EvalTrainer::new(cfg.clone(), &ds, &split, Some(&init), &dev()).unwrap();
    let got = named_params(t.classifier().unwrap());
    assert_eq!(got["encoder.blocks.1.mlp.fc1.weight"], init["encoder.blocks.1.mlp.fc1.weight"]);
    assert_ne!(got["head.fc1.weight"], init["head.fc1.weight"], "the head is not taken from the checkpoint");
    let ce = t.epoch_step(&ds).unwrap();
    let both = t.epoch_step(&ds).unwrap();
    assert!(ce.loss.is_finite() && both.loss.is_finite());
    // The contrastive terms are positive and weighted by 0.9 + 0.1 + 0.9 + 0.7: phase 2 costs more.
    assert!(both.loss > ce.loss + 0.5, "CE {} vs combined {}", ce.loss, both.loss);

    let mut wrong = init.clone();
    wrong.remove("encoder.norm.gamma");
    let e = EvalTrainer::new(cfg, &ds, &split, Some(&wrong), &dev()).err().unwrap().to_string();
    assert!(e.contains("encoder.norm.gamma"), "{e}");
}

#[test]
fn maskclrs_schedule_takes_its_regularisers_and_part_mix_from_its_own_section() {
    let mut ds = separable(8);
    // Two arms hanging from the root, so that body-part mixing has limbs to exchange.
    let names: Vec<String> = ["root", "lwrist", "rwrist"].iter().map(|s| s.to_string()).collect();
    ds.layout = Layout::from_parents("tiny", &[-1, 0, 0], &names).unwrap();
    assert!(crate::data::PartMixer::new(&ds.layout).can_mix());
    let first_loss = |drop_path: f64, label_smoothing: f64, part_mix: f64| {
        let mut cfg = config(Protocol::Supervised);
        cfg.epochs = 1;
        (cfg.maskclr.drop_path, cfg.maskclr.label_smoothing, cfg.maskclr.part_mix) =
            (drop_path, label_smoothing, part_mix);
        // The fine-tuning section's values must not reach MaskCLR's schedule.
        (cfg.finetune.drop_path, cfg.finetune.label_smoothing, cfg.finetune.part_mix) = (0.9, 0.9, 0.9);
        let split = cfg.split.apply(&ds).unwrap();
        EvalTrainer::new(cfg, &ds, &split, None, &dev()).unwrap().epoch_step(&ds).unwrap().loss
    };
    let plain = first_loss(0.0, 0.0, 0.0);
    assert_eq!(plain, first_loss(0.0, 0.0, 0.0), "a seeded epoch repeats");
    assert_ne!(plain, first_loss(0.0, 0.3, 0.0), "label smoothing changes the loss");
    assert_ne!(plain, first_loss(0.5, 0.0, 0.0), "drop path changes the loss");
    assert_ne!(plain, first_loss(0.0, 0.0, 1.0), "part mixing changes the loss");
    let p = std::path::Path::new("eval.toml");
    for key in ["drop_path = 1.0", "label_smoothing = -0.1", "part_mix = 1.5"] {
        let e = parse_eval_config(&format!("[maskclr]\n{key}\n"), p, Protocol::Maskclr).unwrap_err().to_string();
        let field = format!("maskclr.{}", key.split(' ').next().unwrap_or_default());
        assert!(e.contains("eval.toml") && e.contains(&field), "{e}");
    }
}

#[test]
fn eval_config_parses_with_protocol_defaults_and_names_bad_fields() {
    let p = std::path::Path::new("eval.toml");
    let c = parse_eval_config(
        "epochs = 3\n[split]\nkind = \"stratified\"\ngroup = [\"take\"]\ntest_share = 0.3\nseed = 1\n",
        p,
        Protocol::Finetune,
    )
    .unwrap();
    assert_eq!((c.epochs, c.batch_size, c.finetune.layer_decay), (3, 48, 0.8));
    assert_eq!(parse_eval_config("", p, Protocol::Linear).unwrap().batch_size, 256);
    assert_eq!(parse_eval_config("", p, Protocol::Semi).unwrap().finetune.label_fraction, 0.1);
    let e = parse_eval_config("[finetune]\nlayer_decay = 2.0\n", p, Protocol::Finetune).unwrap_err().to_string();
    assert!(e.contains("eval.toml") && e.contains("finetune.layer_decay"), "{e}");
    let e = parse_eval_config("protocol = \"linear\"\n", p, Protocol::Maskclr).unwrap_err().to_string();
    assert!(e.contains("protocol") && e.contains("maskclr"), "{e}");
    let e = parse_eval_config("[split]\nkind = \"ntu_xsub_61\"\n", p, Protocol::Linear).unwrap_err().to_string();
    assert!(e.contains("split"), "{e}");
    let e = parse_eval_config("[clip]\ncrop_max = 3.5\n", p, Protocol::Linear).unwrap_err().to_string();
    assert!(e.contains("eval.toml") && e.contains("clip.crop_max"), "{e}");
    let e = parse_eval_config("[clip]\nscale = -0.2\n", p, Protocol::Supervised).unwrap_err().to_string();
    assert!(e.contains("eval.toml") && e.contains("clip.scale"), "{e}");
}

/// A one-epoch run of `protocol` on `ds` with the test config, and its split.
fn trained_one_epoch(protocol: Protocol, ds: &Dataset) -> (EvalTrainer, SplitIndices) {
    let mut cfg = config(protocol);
    cfg.epochs = 1;
    let split = cfg.split.apply(ds).unwrap();
    let mut t = EvalTrainer::new(cfg, ds, &split, None, &dev()).unwrap();
    t.epoch_step(ds).unwrap();
    (t, split)
}

#[test]
fn predictions_match_the_trainers_scores_and_name_the_classes() {
    let ds = separable(8);
    for protocol in [Protocol::Finetune, Protocol::Linear] {
        let (mut t, split) = trained_one_epoch(protocol, &ds);
        let bytes = t.checkpoint().unwrap().to_bytes().unwrap();
        let ckpt = EvalCheckpoint::from_bytes(&bytes, std::path::Path::new("mem")).unwrap();
        let p = Predictor::from_checkpoint(&ckpt, &dev()).unwrap();
        assert_eq!(p.classes(), 3);

        // The trainer's own test scores, softmaxed by hand, are the predictor's probabilities.
        let scores = t.test_scores(None).unwrap();
        let probs = p.probabilities(&ds, &split.test).unwrap();
        assert_eq!(probs.len(), split.test.len() * 3);
        assert_softmax_of(&scores, &probs, 3, &format!("{protocol:?}"));
        let preds = p.predict(&ds, &split.test, 5).unwrap();
        assert_eq!(preds.len(), split.test.len());
        let first = &preds[0];
        assert_eq!(first.top.len(), 3, "at most as many as there are classes");
        assert!(first.top.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert_eq!(first.top[0].name, ds.label_names[first.top[0].class], "class names come from the checkpoint");
        assert_eq!(first.sequence, ds.sequences[split.test[0]].name);
        assert_eq!(first.label.as_deref(), Some(ds.label_names[ds.sequences[split.test[0]].label as usize].as_str()));
    }
}

#[test]
fn a_layout_that_does_not_fit_the_predictor_is_named() {
    let ds = separable(4);
    let cfg = config(Protocol::Finetune);
    let split = cfg.split.apply(&ds).unwrap();
    let t = EvalTrainer::new(cfg, &ds, &split, None, &dev()).unwrap();
    let p = Predictor::from_checkpoint(&t.checkpoint().unwrap(), &dev()).unwrap();
    assert!(p.predict(&ds, &[0], 5).is_ok());

    let mut renamed = ds.clone();
    renamed.layout.joint_names[1] = "tail".into();
    let e = p.predict(&renamed, &[0], 5).unwrap_err().to_string();
    assert!(e.contains("joint 1 is `tail`"), "{e}");

    let names: Vec<String> = ["root", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let mut more = ds.clone();
    more.layout = Layout::from_parents("four", &[-1, 0, 0, 0], &names).unwrap();
    let e = p.predict(&more, &[0], 5).unwrap_err().to_string();
    assert!(e.contains("`four` has 4 joints") && e.contains("trained on 3 joints"), "{e}");

    let e = p.predict(&ds, &[ds.len()], 5).unwrap_err().to_string();
    assert!(e.contains("not in the dataset"), "{e}");

    let mut encoder_only = t.checkpoint().unwrap();
    encoder_only.model.retain(|k, _| k.starts_with("encoder."));
    let e = Predictor::from_checkpoint(&encoder_only, &dev()).err().unwrap().to_string();
    assert!(e.contains("no classifier head"), "{e}");
}

#[test]
fn weight_averaging_saves_and_tests_the_mean_of_the_last_epochs_and_resumes_exactly() {
    let ds = separable(8);
    let mut cfg = config(Protocol::Finetune);
    cfg.epochs = 4;
    cfg.finetune.average_epochs = 2;
    let split = cfg.split.apply(&ds).unwrap();
    let mut unbroken = EvalTrainer::new(cfg.clone(), &ds, &split, None, &dev()).unwrap();
    let mut weights = Vec::new();
    for _ in 0..4 {
        unbroken.epoch_step(&ds).unwrap();
        weights.push(named_params(unbroken.classifier().unwrap()));
    }
    let h = unbroken.history();
    assert!(h[..2].iter().all(|r| r.current.is_none()) && h[2..].iter().all(|r| r.current.is_some()), "{h:?}");
    // Epoch 3 averages one set: its model is the current weights.
    assert_eq!(h[2].current, Some(h[2].test));

    // The saved model is the mean of epochs 3 and 4; the current weights travel under `w.` keys.
    let ckpt = unbroken.checkpoint().unwrap();
    assert_eq!(ckpt.state.as_ref().unwrap().averaged, 2);
    for (k, t) in &ckpt.model {
        let (a, b) = (&weights[2][k].values, &weights[3][k].values);
        for (i, v) in t.values.iter().enumerate() {
            assert!((v - 0.5 * (a[i] + b[i])).abs() < 1e-6, "{k}[{i}]: {v} vs mean of {} and {}", a[i], b[i]);
        }
        assert_eq!(&ckpt.optimizer[&format!("w.{k}")], &weights[3][k]);
    }
    assert_ne!(ckpt.model["head.fc2.weight"], weights[3]["head.fc2.weight"], "the average is not the last epoch");

    // The trainer tests the average, as the predictor of the saved checkpoint does.
    let scores = unbroken.test_scores(None).unwrap();
    let probs = Predictor::from_checkpoint(&ckpt, &dev()).unwrap().probabilities(&ds, &split.test).unwrap();
    assert_softmax_of(&scores, &probs, 3, "averaged");

    // Stopped inside the window and resumed: the same history and the same saved model.
    assert_resumes_exactly(cfg, &ds, &split, &unbroken, &ckpt.model, "averaged");

    let mut bad = config(Protocol::Maskclr);
    bad.maskclr.average_epochs = bad.epochs + 1;
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("maskclr.average_epochs"), "{e}");
}

#[test]
fn recomputed_norm_statistics_are_those_of_the_training_clips_and_resume_exactly() {
    let ds = separable(8);
    let mut plain_history: Vec<EpochReport> = Vec::new();
    for average in [0, 2] {
        let mut cfg = config(Protocol::Supervised);
        cfg.epochs = 3;
        cfg.maskclr.recompute_norm = true;
        cfg.maskclr.average_epochs = average;
        let split = cfg.split.apply(&ds).unwrap();
        let mut unbroken = EvalTrainer::new(cfg.clone(), &ds, &split, None, &dev()).unwrap();
        let mut weights = Vec::new();
        for _ in 0..3 {
            unbroken.epoch_step(&ds).unwrap();
            weights.push(named_params(unbroken.classifier().unwrap()));
        }
        assert!(unbroken.history().iter().all(|r| r.current.is_some()), "the current weights are tested beside");
        // The current weights with recomputed statistics are tested beside a weight average only; the
        // average of one epoch is those weights, and training does not depend on the averaging, so
        // they score as the run that does not average.
        let h = unbroken.history();
        if average == 0 {
            assert!(h.iter().all(|r| r.current_norm.is_none()), "{h:?}");
            plain_history = h.to_vec();
        } else {
            assert_eq!(h[0].current_norm, None);
            assert_eq!(h[1].current_norm, Some(h[1].test));
            let tested: Vec<_> = h.iter().map(|r| r.current_norm.unwrap_or(r.test)).collect();
            assert_eq!(tested, plain_history.iter().map(|r| r.test).collect::<Vec<_>>());
        }

        // Every parameter but the head's running statistics is the current weights' (no averaging)
        // or the mean of the last two epochs' (averaging).
        let ckpt = unbroken.checkpoint().unwrap();
        let current: NamedParams =
            ckpt.optimizer.iter().filter_map(|(k, t)| Some((k.strip_prefix("w.")?.to_string(), t.clone()))).collect();
        assert_eq!(current, weights[2]);
        let stats: Vec<&String> = ckpt.model.keys().filter(|k| k.starts_with("head.bn.running")).collect();
        assert_eq!(stats.len(), 2, "{stats:?}");
        for (k, t) in ckpt.model.iter().filter(|(k, _)| !stats.contains(k)) {
            for (i, v) in t.values.iter().enumerate() {
                let (a, b) = (weights[1][k].values[i], weights[2][k].values[i]);
                let want = if average == 0 { b } else { 0.5 * (a + b) };
                assert!((v - want).abs() < 1e-6, "average {average}, {k}[{i}]: {v} vs {want}");
            }
        }

        // The statistics are the mean and unbiased variance of the saved model's hidden units over
        // the training sequences' centre clips, computed here at once and in f64.
        let model = load_params(unbroken.classifier().unwrap().valid(), &ckpt.model).unwrap();
        let (x, shape) = crate::features::centre_clips(&ds, unbroken.labelled(), &cfg.clip);
        let h: Vec<f32> =
            model.hidden(Tensor::<5>::from_data(TensorData::new(x, shape), &dev())).into_data().try_to_vec().unwrap();
        let (n, units) = (shape[0], cfg.maskclr.hidden);
        assert!(n > 2);
        let h = &h;
        let column = |j: usize| (0..n).map(move |i| f64::from(h[i * units + j]));
        let mean: Vec<f64> = (0..units).map(|j| column(j).sum::<f64>() / n as f64).collect();
        let var: Vec<f64> =
            (0..units).map(|j| column(j).map(|v| (v - mean[j]).powi(2)).sum::<f64>() / (n - 1) as f64).collect();
        let saved = |k: &str| &ckpt.model[&format!("head.bn.running_{k}")].values;
        for j in 0..units {
            assert!((f64::from(saved("mean")[j]) - mean[j]).abs() < 1e-4 * (1.0 + mean[j].abs()), "mean[{j}]");
            assert!((f64::from(saved("var")[j]) - var[j]).abs() < 1e-3 * (1.0 + var[j]), "var[{j}]");
        }
        assert_ne!(saved("var"), &current["head.bn.running_var"].values, "the training statistics are replaced");

        // The trainer tests the model it saves.
        let scores = unbroken.test_scores(None).unwrap();
        let probs = Predictor::from_checkpoint(&ckpt, &dev()).unwrap().probabilities(&ds, &split.test).unwrap();
        assert_softmax_of(&scores, &probs, 3, "recomputed");

        // Stopped after two epochs (averaging: inside the window) and resumed: the same history and
        // the same saved model.
        let saved = assert_resumes_exactly(cfg, &ds, &split, &unbroken, &ckpt.model, &format!("average {average}"));
        assert_eq!(saved.state.as_ref().unwrap().averaged, average / 2);

        // A checkpoint that says it averages but lost the current weights is refused.
        if average > 0 {
            let mut broken = saved;
            broken.optimizer.retain(|k, _| !k.starts_with("w."));
            let e = EvalTrainer::resume(&broken, &ds, &dev()).err().unwrap().to_string();
            assert!(e.contains("no current weights"), "{e}");
        }
    }
}

#[test]
fn several_test_windows_score_the_mean_of_their_logits() {
    use crate::data::clip::TestWindow;
    let ds = separable(8);
    let (w1, w2) = (TestWindow { share: 1.0, at: 0.5 }, TestWindow { share: 0.5, at: 0.0 });
    for protocol in [Protocol::Finetune, Protocol::Linear] {
        let (t, split) = trained_one_epoch(protocol, &ds);
        let ckpt = t.checkpoint().unwrap();
        let resumed = |windows: Vec<TestWindow>| {
            let mut c = ckpt.clone();
            c.config.clip.test_windows = windows;
            EvalTrainer::resume(&c, &ds, &dev()).unwrap()
        };
        let (mut one, mut two, mut both) = (resumed(vec![w1]), resumed(vec![w2]), resumed(vec![w1, w2]));
        let (a, b, mean) =
            (one.test_scores(None).unwrap(), two.test_scores(None).unwrap(), both.test_scores(None).unwrap());
        assert_eq!(mean.len(), split.test.len() * 3, "{protocol:?}: one row per sequence");
        assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-4), "{protocol:?}: the windows must differ");
        for ((x, y), m) in a.iter().zip(&b).zip(&mean) {
            assert!((0.5 * (x + y) - m).abs() < 1e-4, "{protocol:?}: {x} {y} -> {m}");
        }
        // The retest reports the accuracy of those scores, at the run's last epoch.
        let report = both.retest(&ds).unwrap();
        assert_eq!(report.epoch, 1);
        let labels: Vec<usize> = split.test.iter().map(|&i| ds.sequences[i].label as usize).collect();
        assert_eq!(report.test, Accuracy::of_scores(&mean, 3, &labels), "{protocol:?}");
        // The predictor of a run with those windows gives the softmax of the mean logits.
        let mut c = ckpt.clone();
        c.config.clip.test_windows = vec![w1, w2];
        let probs = Predictor::from_checkpoint(&c, &dev()).unwrap().probabilities(&ds, &split.test).unwrap();
        assert_softmax_of(&mean, &probs, 3, &format!("{protocol:?}"));
    }
}

#[test]
fn the_raw_baseline_scores_several_windows_by_their_mean() {
    use crate::data::clip::TestWindow;
    let ds = separable(8);
    let cfg = config(Protocol::Knn);
    let split = cfg.split.apply(&ds).unwrap();
    let plain = raw_nearest_neighbour(&cfg, &ds, &split).unwrap();
    assert!(plain.top1 > 0.9, "separable postures: {}", plain.top1);
    // The centre crop twice is the centre crop.
    let mut twice = cfg.clone();
    twice.clip.test_windows = vec![TestWindow { share: cfg.clip.test_crop, at: 0.5 }; 2];
    assert_eq!(raw_nearest_neighbour(&twice, &ds, &split).unwrap(), plain);
    // A tenth of each sequence at its start still tells postures apart, with every test sequence counted once.
    twice.clip.test_windows = vec![TestWindow { share: 0.1, at: 0.0 }, TestWindow { share: 1.0, at: 0.5 }];
    let mixed = raw_nearest_neighbour(&twice, &ds, &split).unwrap();
    assert_eq!(mixed.samples, split.test.len());
    assert!(mixed.top1 > 0.9, "{}", mixed.top1);
}
