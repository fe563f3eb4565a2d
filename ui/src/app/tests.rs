//! The App's tests: commands, widgets through egui_kittest, URL fragments, classifiers, settings.

use std::sync::Mutex;

use super::*;

fn app() -> AmrApp {
    AmrApp::new(amr_core::demo::demo_dataset().unwrap(), "demo", Arc::new(Mutex::new(None)))
}

#[test]
fn changing_k_changes_the_weights_and_a_bad_value_is_refused() {
    let mut a = app();
    let before = a.weights.fused.clone();
    let f = FocalConfig { k: 0.5, ..FocalConfig::default() };
    a.queue(AppCommand::SetFocal(f.clone()));
    a.apply_commands();
    assert_eq!(a.weights, focal_weights(&a.shown_seq, &f));
    assert_ne!(a.weights.fused, before);
    a.queue(AppCommand::SetFocal(FocalConfig { k: -1.0, ..f.clone() }));
    a.apply_commands();
    assert_eq!(a.settings.focal, f, "a negative k is refused");
    assert!(a.message.contains("focal.k"), "{}", a.message);
}

#[test]
fn the_masking_preview_switches_to_the_model_clip_and_redraws() {
    let mut a = app();
    a.queue(AppCommand::Preview(PreviewKind::Motion));
    a.apply_commands();
    assert!(a.settings.clip_view);
    assert_eq!(a.shown_seq.frames, 120);
    let first = a.preview.clone().unwrap();
    a.queue(AppCommand::RedrawMask);
    a.apply_commands();
    assert_ne!(a.preview.as_ref().unwrap().motion, first.motion);
    a.queue(AppCommand::ClipView(false));
    a.apply_commands();
    assert!(a.preview.is_none() && a.settings.preview == PreviewKind::Off);
}

/// The App in a headless harness (no window, no GPU), its draw reports read back.
fn harness() -> (egui_kittest::Harness<'static, AmrApp>, ReportSink) {
    let sink: ReportSink = Arc::new(Mutex::new(None));
    let app = AmrApp::new(amr_core::demo::demo_dataset().unwrap(), "demo", sink.clone());
    let h = egui_kittest::Harness::builder()
        .with_size([1280.0, 800.0])
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut AmrApp| app.ui_root(ui), app);
    (h, sink)
}

fn last(sink: &ReportSink) -> DrawReport {
    sink.lock().unwrap().clone().unwrap()
}

#[test]
fn widgets_switch_scales_and_the_k_slider_changes_the_drawn_weights() {
    use egui_kittest::kittest::Queryable as _;
    let (mut h, sink) = harness();
    h.run_steps(3);
    h.get_by_label("Pause").click();
    h.run_steps(3);
    let before = last(&sink);
    assert_eq!((before.weights.as_str(), before.joints, before.heatmaps), ("fused", 21, 1));
    h.get_by_role_and_label(egui::Role::Slider, "k").set_value_accesskit(0.5);
    h.run_steps(3);
    let after = last(&sink);
    assert_eq!(after.frame, before.frame, "the timeline is paused");
    assert!((h.state().settings.focal.k - 0.5).abs() < 1e-6);
    assert_ne!(after.weight_range, before.weight_range, "k changes the weights drawn");
    // The drawn range is that of the reference weights at the new k.
    let w = focal_weights(&h.state().shown_seq, &FocalConfig { k: 0.5, ..FocalConfig::default() });
    let ws: Vec<f32> = (0..21).map(|v| w.fused_at(after.frame, 0, v)).collect();
    assert_eq!(after.weight_range[1], ws.iter().copied().fold(f32::MIN, f32::max));
    h.get_by_label("n=4").click();
    h.run_steps(3);
    assert_eq!(last(&sink).weights, "n=4");
    h.get_by_label("side by side").click();
    h.run_steps(3);
    let side = last(&sink);
    assert_eq!((side.heatmaps, side.joints), (4, 4 * 21), "three scales and the fused weights");
    h.get_by_label("motion-aware").click();
    h.run_steps(3);
    assert_eq!(last(&sink).hidden_tokens, 630 - 63);
    // A two-person dataset draws both persons.
    let two = amr_core::data::synthetic_dataset(&amr_core::skeleton::ntu25(), 2, 40, 2, 1);
    h.state_mut().set_dataset(two, "two.safetensors");
    h.get_by_label("side by side").click();
    h.run_steps(3);
    let r = last(&sink);
    assert_eq!((r.persons, r.joints, r.bones), (2, 50, 48), "{r:?}");
}

#[test]
fn a_url_fragment_reopens_the_same_view() {
    let mut a = app();
    a.apply_url_hash("#tab=learn&s=5&f=12&j=7&k=0.2&n=4,10&view=scale1&side=1&mask=random&seed=3");
    assert_eq!(a.settings.tab, Tab::Learn);
    assert_eq!((a.sample, a.settings.timeline.frame, a.selected_joint), (5, 12, Some(7)));
    assert_eq!(a.settings.focal.windows, vec![4, 10]);
    assert_eq!(a.weights, focal_weights(&a.shown_seq, &a.settings.focal));
    assert_eq!((a.settings.shown, a.settings.side_by_side), (Shown::Scale(1), true));
    assert_eq!((a.settings.preview, a.settings.mask_seed), (PreviewKind::Random, 3));
    let hash = a.url_hash();
    let mut b = app();
    b.apply_url_hash(&hash);
    assert_eq!(b.url_hash(), hash);
    assert_eq!(b.weights, a.weights);
    b.apply_url_hash("k=oops");
    assert!(b.message.contains("k=oops"), "{}", b.message);
    assert_eq!(b.settings.focal.k, a.settings.focal.k);
    // Hundreds of window sizes (each would keep a copy of the clip's weights): named and skipped.
    let many = vec!["3"; 500].join(",");
    b.apply_url_hash(&format!("n={many}"));
    assert!(b.message.contains("at most 8 window sizes"), "{}", b.message);
    assert_eq!(b.settings.focal.windows, a.settings.focal.windows);
}

/// An evaluation checkpoint of a small random classifier for `joints` joints and 10 classes.
fn classifier_bytes(joints: usize) -> Vec<u8> {
    let mut config = amr_core::eval::EvalConfig::for_protocol(amr_core::eval::Protocol::Finetune);
    config.model = config.model.with_joints(joints).with_dim(16).with_heads(2).with_mlp(32).with_encoder_depth(1);
    config.clip.frames = config.model.frames;
    let model = amr_core::eval::classifier::Classifier::new(&config.model, 8, 10, 1, &amr_core::backend::cpu_device());
    let ckpt = EvalCheckpoint {
        config,
        model: amr_core::model::named_params(&model),
        optimizer: Default::default(),
        state: None,
    };
    ckpt.to_bytes().unwrap()
}

#[test]
fn a_loaded_classifier_predicts_the_shown_sequence_in_explore_and_reconstruct() {
    let (mut h, sink) = harness();
    h.state_mut().load_checkpoint_bytes(&classifier_bytes(21), "eval.safetensors");
    assert!(h.state().message().starts_with("classifier eval.safetensors (finetune run, 10 classes)"));
    h.run_steps(2);
    let first = last(&sink).prediction.expect("a prediction in the explore tab");
    let want = h.state().prediction.clone().unwrap().unwrap();
    assert_eq!(want.top.len(), 5);
    assert_eq!(first, want.top[0].name);
    assert!((want.top.iter().map(|c| c.probability).sum::<f32>()) <= 1.0 + 1e-5);
    // Another sample: the prediction follows it.
    h.state_mut().queue(AppCommand::Select(7));
    h.state_mut().apply_commands();
    let other = h.state().prediction.clone().unwrap().unwrap();
    assert_eq!(other.sequence, h.state().dataset().sequences[7].name);
    h.state_mut().queue(AppCommand::Tab(Tab::Reconstruct));
    h.run_steps(2);
    assert_eq!(last(&sink).prediction.as_deref(), Some(other.top[0].name.as_str()));
    // A classifier of another joint layout says so instead of predicting.
    h.state_mut().load_checkpoint_bytes(&classifier_bytes(25), "ntu.safetensors");
    h.run_steps(2);
    assert_eq!(last(&sink).prediction, None);
    let e = h.state().prediction.clone().unwrap().unwrap_err();
    assert!(e.contains("21 joints") && e.contains("25 joints"), "{e}");
    // Bytes that are no checkpoint at all keep the classifier and name the file.
    let before = h.state().prediction.clone();
    h.state_mut().load_checkpoint_bytes(b"not a checkpoint", "junk.safetensors");
    assert!(h.state().message().contains("junk.safetensors"), "{}", h.state().message());
    assert_eq!(h.state().prediction, before);
}

#[test]
fn settings_survive_a_round_trip() {
    let mut a = app();
    a.queue(AppCommand::SetFocal(FocalConfig { k: 0.2, windows: vec![6, 10], ..FocalConfig::default() }));
    a.queue(AppCommand::SideBySide(true));
    a.apply_commands();
    let s = a.settings();
    let text = serde_json::to_string(&s).unwrap();
    let back: Settings = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    let b = app().with_settings(back);
    assert_eq!(b.settings.focal.windows, vec![6, 10]);
    assert!(b.settings.side_by_side);
    // Stored values out of bounds are named and reset, the rest kept.
    let mut stored = s.clone();
    stored.focal.windows = vec![4; 1000];
    stored.shown = Shown::Scale(700);
    let c = app().with_settings(stored);
    assert_eq!(c.settings.focal, FocalConfig::default());
    assert_eq!(c.settings.shown, Shown::Fused);
    assert!(c.settings.side_by_side);
    assert!(c.message.contains("stored settings") && c.message.contains("focal.windows"), "{}", c.message);
}
