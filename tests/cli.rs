//! End-to-end tests of the headless command line (`amr --no-gui ...`) on the embedded demo data, the
//! Bandai BVH takes in tests/data, and (with `AMR_SHARED` set, see tests/support/shared.rs) the files in
//! ../shared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::unique_colours;

fn amr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amr")).arg("--no-gui").args(args).output().expect("run amr")
}

fn ok(args: &[&str]) -> String {
    let o = amr(args);
    assert!(o.status.success(), "amr {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let o = amr(args);
    assert!(!o.status.success(), "amr {args:?} should fail");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "a panic instead of an error: {err}");
    err
}

fn tmp(name: &str) -> PathBuf {
    support::tmp_dir("cli").join(name)
}

fn shared(test: &str) -> Option<PathBuf> {
    support::shared(test)
}

#[test]
fn inspect_lists_sequences_classes_and_joints() {
    let out = ok(&["inspect", "embedded"]);
    assert!(out.contains("sequences:  210"), "{out}");
    assert!(out.contains("joints:     21 (Hips, Spine"), "{out}");
    assert!(out.contains("raise-up-both-hands"), "{out}");
    assert!(out.contains("fps"), "{out}");
    // 10 actions x 7 styles x 3 takes: 21 per class.
    assert_eq!(out.lines().filter(|l| l.trim_end().ends_with(" 21")).count(), 10, "{out}");
}

#[test]
fn weights_picture_and_numbers() {
    let png = tmp("weights.png");
    ok(&["weights", "embedded", "--sample", "5", "--out", png.to_str().unwrap()]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(unique_colours(&png) > 100, "the picture looks blank");
    let svg = tmp("weights.svg");
    ok(&["weights", "embedded", "--sample", "5", "--out", svg.to_str().unwrap()]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("Hand_L"), "joint names on the axis");

    let json = tmp("weights.json");
    ok(&["weights", "embedded", "--sample", "5", "--out", json.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let frames = doc["frames"].as_u64().unwrap() as usize;
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), frames * 21);
    for r in rows {
        let w: Vec<f64> = ["4", "8", "12"].iter().map(|k| r["weight"][k].as_f64().unwrap()).collect();
        let fused = r["fused"].as_f64().unwrap();
        assert!(w.iter().all(|x| (0.0..1.0).contains(x)));
        assert!((fused - w.iter().sum::<f64>() / 3.0).abs() < 1e-6, "fused is the mean of the windows");
        // Eq. 4 from the written energy and threshold.
        let e = r["energy"]["4"].as_f64().unwrap();
        let et = doc["threshold"]["4"][0].as_f64().unwrap();
        let expect = if e <= 0.0 { 0.0 } else { 1.0 / (1.0 + 0.01 * et / (e + 1e-8)) };
        assert!((w[0] - expect).abs() < 1e-5 * expect.max(1e-3), "{} vs {expect}", w[0]);
    }
    let csv = tmp("weights.csv");
    ok(&["weights", "embedded", "--sample", "0", "--fusion", "max", "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("frame,person,joint,energy_n4,weight_n4,energy_n8,weight_n8,energy_n12,weight_n12,fused\n")
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let e = fails(&["inspect", "/nonexistent/data.safetensors"]);
    assert!(e.contains("/nonexistent/data.safetensors"), "{e}");
    let e = fails(&["weights", "embedded", "--sample", "9999", "--out", "/tmp/x.png"]);
    assert!(e.contains("--sample 9999") && e.contains("210"), "{e}");
    let e = fails(&["weights", "embedded", "--out", "/tmp/x.bmp"]);
    assert!(e.contains(".bmp") || e.contains("`bmp`"), "{e}");
    let e = fails(&["weights", "embedded", "--k", "-1", "--out", "/tmp/x.png"]);
    assert!(e.contains("focal.k"), "{e}");
    let junk = tmp("junk.safetensors");
    std::fs::write(&junk, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}").unwrap();
    let e = fails(&["inspect", junk.to_str().unwrap()]);
    assert!(e.contains("junk.safetensors"), "{e}");
    let e = fails(&["convert", "/nonexistent", "/tmp/out.safetensors"]);
    assert!(e.contains("/nonexistent"), "{e}");
    // A write that fails (files limited to 512 bytes, the signal for it ignored: the write itself
    // errs) keeps the file that was there and leaves no temporary file.
    let keep = tmp("keep.json");
    std::fs::write(&keep, "precious").unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 1; exec '{}' --no-gui weights embedded --sample 5 --out '{}'",
            env!("CARGO_BIN_EXE_amr"),
            keep.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(".keep.json.tmp") && !err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    let left: Vec<_> = std::fs::read_dir(keep.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".keep.json.tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn convert_bvh_folder_with_bandai_labels() {
    let out = tmp("bvh.safetensors");
    let bvh = support::bandai_bvh();
    let msg = ok(&["convert", bvh.to_str().unwrap(), out.to_str().unwrap(), "--every", "2"]);
    assert!(msg.contains("10 sequences") && msg.contains("21 joints") && msg.contains("15 fps"), "{msg}");
    let info = ok(&["inspect", out.to_str().unwrap()]);
    assert!(info.contains("walk-turn-left") && info.contains("attribute:  style"), "{info}");
    let ds = amr_core::data::load_amr_skeleton(&out).unwrap();
    let run = &ds.sequences[ds.find("dataset-2_run_normal_001").unwrap()];
    assert_eq!(ds.label_names[run.label as usize], "run");
}

#[test]
fn convert_asf_amc_folder_with_a_label_pattern() {
    let Some(shared) = shared("convert_asf_amc_folder_with_a_label_pattern") else { return };
    let out = tmp("hdm.safetensors");
    let msg = ok(&[
        "convert",
        shared.join("data/raw/asf-amc").to_str().unwrap(),
        out.to_str().unwrap(),
        "--every",
        "4",
        "--amc-fps",
        "120",
        "--label-pattern",
        "HDM_{*}_{label}_{*}_{*}",
    ]);
    assert!(
        msg.contains("11 sequences")
            && msg.contains("31 joints")
            && msg.contains("30 fps")
            && msg.contains("11 classes"),
        "{msg}"
    );
    let e = fails(&[
        "convert",
        shared.join("data/raw/asf-amc").to_str().unwrap(),
        out.to_str().unwrap(),
        "--label-pattern",
        "XYZ_{label}",
    ]);
    assert!(e.contains("does not match sample"), "{e}");
}

#[test]
fn convert_ntu_npz_and_skeleton_folder() {
    use std::io::Write;
    // An npz in the MAMP layout: 2 train and 1 test samples of 6 frames, 3 classes.
    let sample = |seed: f32| {
        (0..6 * 150).map(|k| if k % 150 < 75 { (k as f32 * 0.1 + seed).sin() } else { 0.0 }).collect::<Vec<f32>>()
    };
    let x_train = [sample(0.0), sample(1.0)].concat();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in [
        ("x_train", vec![2, 6, 150], x_train),
        ("y_train", vec![2, 3], vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]),
        ("x_test", vec![1, 6, 150], sample(2.0)),
        ("y_test", vec![1, 3], vec![0.0, 1.0, 0.0]),
    ] {
        w.start_file(format!("{name}.npy"), opts).unwrap();
        w.write_all(&amr_core::data::write_npy_f32(&shape, &data)).unwrap();
    }
    let npz = tmp("ntu.npz");
    std::fs::write(&npz, w.finish().unwrap().into_inner()).unwrap();
    let out = tmp("ntu.safetensors");
    let msg = ok(&["convert", npz.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(msg.contains("3 sequences") && msg.contains("25 joints") && msg.contains("2 persons"), "{msg}");

    // A .skeleton folder with one file.
    let dir = tmp("skel");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("15\n");
    for f in 0..15 {
        text += "1\n72057594037931101 0 1 1 1 1 0 0.1 0.2 2\n25\n";
        for j in 0..25 {
            text += &format!("{} {} 3.1 0 0 0 0 0 0 0 0 2\n", j as f32 * 0.01 + f as f32 * 0.02, j as f32 * 0.07);
        }
    }
    std::fs::write(dir.join("S001C002P003R002A013.skeleton"), text).unwrap();
    let out = tmp("skel.safetensors");
    let msg = ok(&["convert", dir.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(msg.contains("1 sequences") && msg.contains("15 frames"), "{msg}");
    let ds = amr_core::data::load_amr_skeleton(&out).unwrap();
    assert_eq!(ds.sequences[0].label, 12);
    assert_eq!(ds.label_names.len(), 13);
}

#[test]
fn subset_reproduces_the_embedded_demo_data() {
    let Some(shared) = shared("subset_reproduces_the_embedded_demo_data") else { return };
    let full = shared.join("data/bandai2_15fps.safetensors");
    for (name, args) in [
        ("bandai2_demo.safetensors", vec!["--per-group", "3", "--by", "style"]),
        ("bandai2_web.safetensors", vec!["--per-group", "2", "--by", "style", "--only", "style=normal,active"]),
        ("bandai2_first.safetensors", vec!["--per-group", "1", "--only", "style=normal,active"]),
    ] {
        let out = tmp(name);
        let mut a = vec!["subset", full.to_str().unwrap(), out.to_str().unwrap()];
        a.extend(args);
        ok(&a);
        let made = amr_core::data::load_amr_skeleton(&out).unwrap();
        let shipped =
            amr_core::data::load_amr_skeleton(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets").join(name))
                .unwrap();
        assert_eq!(made.sequences, shipped.sequences, "{name}");
    }
    let e =
        fails(&["subset", full.to_str().unwrap(), "/tmp/x.safetensors", "--per-group", "1", "--only", "style=sleepy"]);
    assert!(e.contains("`sleepy`") && e.contains("normal"), "{e}");
}

const TINY_RUN: &str = "batch_size = 8\nseed = 3\n[model]\njoints = 21\ndim = 32\nheads = 2\nmlp = 64\nencoder_depth = 1\ndecoder_depth = 1\n[schedule]\nepochs = 2\nwarmup_epochs = 1\n[run]\ncheckpoint_every = 2\n";

/// Writes the tiny run config to `cfg` and returns it with two empty run-folder paths.
fn tiny_run_setup(cfg: &str, a: &str, b: &str) -> (PathBuf, PathBuf, PathBuf) {
    let cfg = tmp(cfg);
    std::fs::write(&cfg, TINY_RUN).unwrap();
    let (a, b) = (tmp(a), tmp(b));
    for d in [&a, &b] {
        let _ = std::fs::remove_dir_all(d);
    }
    (cfg, a, b)
}

fn losses(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(text.starts_with("step,epoch,loss,trivial_loss,loss_ratio,lr,seconds,sequences_per_second\n"), "{text}");
    for line in text.lines().skip(1) {
        // The ratio column is the loss over the trivial predictor's loss on the same batch.
        let f: Vec<f64> = line.split(',').take(5).map(|x| x.parse().unwrap()).collect();
        assert!(f[3] > 0.0 && (f[4] - f[2] / f[3]).abs() < 1e-5, "{line}");
    }
    text.lines().skip(1).map(|l| l.split(',').take(6).collect::<Vec<_>>().join(",")).collect()
}

#[test]
fn pretrain_writes_a_run_folder_and_a_resumed_run_matches_the_unbroken_one() {
    let (cfg, a, b) = tiny_run_setup("tiny.toml", "run-a", "run-b");
    let c = cfg.to_str().unwrap();
    ok(&["pretrain", "--config", c, "--out", a.to_str().unwrap(), "--device", "cpu", "--max-steps", "6"]);
    ok(&["pretrain", "--config", c, "--out", b.to_str().unwrap(), "--device", "cpu", "--max-steps", "3"]);
    let out = ok(&["pretrain", "--resume", b.to_str().unwrap(), "--device", "cpu", "--max-steps", "3"]);
    assert!(out.contains("step 6/"), "{out}");
    let (la, lb) = (losses(&a), losses(&b));
    assert_eq!(la.len(), 6);
    assert_eq!(la, lb, "step, epoch, loss and lr of the resumed run equal the unbroken run's");
    for f in ["config.toml", "checkpoint.safetensors", "loss.svg"] {
        assert!(a.join(f).exists(), "{f} missing");
    }
    assert!(unique_colours(&a.join("loss.png")) > 20, "the loss curve looks blank");
    let written = std::fs::read_to_string(a.join("config.toml")).unwrap();
    assert!(written.contains("dim = 32") && written.contains("[batch.focal]"), "{written}");
    // A folder that holds a run is not overwritten.
    let err = fails(&["pretrain", "--config", c, "--out", a.to_str().unwrap(), "--device", "cpu"]);
    assert!(err.contains("already holds a run") && err.contains("--resume"), "{err}");

    // The checkpoint before the latest is kept; a damaged latest one is named and the run resumes
    // from the previous one (step 4 of a run checkpointed every 2 steps), repeating the steps after it
    // with the same losses.
    let damaged = tmp("run-damaged");
    let _ = std::fs::remove_dir_all(&damaged);
    ok(&["pretrain", "--config", c, "--out", damaged.to_str().unwrap(), "--device", "cpu", "--max-steps", "6"]);
    let latest = damaged.join("checkpoint.safetensors");
    assert!(damaged.join("checkpoint.prev.safetensors").exists());
    let mut bytes = std::fs::read(&latest).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&latest, &bytes).unwrap();
    let o = amr(&["pretrain", "--resume", damaged.to_str().unwrap(), "--device", "cpu", "--max-steps", "2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("checkpoint.safetensors") && err.contains("damaged") && err.contains("step 4"), "{err}");
    assert_eq!(losses(&damaged), la, "the repeated steps 5 and 6 equal the unbroken run's");

    // Features of the embedded data from the run's checkpoint: one row per sequence.
    let feats = tmp("run-features.npy");
    let ckpt = a.join("checkpoint.safetensors");
    let out = ok(&["embed", ckpt.to_str().unwrap(), "embedded", "--out", feats.to_str().unwrap(), "--device", "cpu"]);
    assert!(out.contains("210 x 32 features"), "{out}");
    let arr = amr_core::data::parse_npy(&std::fs::read(&feats).unwrap(), &feats, "f").unwrap();
    assert_eq!(arr.shape, vec![210, 32]);
    assert!(arr.data.iter().all(|x| x.is_finite()));
}

#[test]
fn bad_configs_and_a_diverging_run_get_clear_errors() {
    let bad = tmp("bad.toml");
    std::fs::write(&bad, "[model]\ndimm = 3\n").unwrap();
    let err = fails(&["pretrain", "--config", bad.to_str().unwrap(), "--out", tmp("never").to_str().unwrap()]);
    assert!(err.contains("bad.toml") && err.contains("`model.dimm`"), "{err}");
    std::fs::write(&bad, "[batch]\nmask_ratio = 1.2\n").unwrap();
    let err = fails(&["pretrain", "--config", bad.to_str().unwrap(), "--out", tmp("never").to_str().unwrap()]);
    assert!(err.contains("`batch.mask_ratio`"), "{err}");
    std::fs::write(&bad, "[model]\ndim = 32\nheads = 2\n").unwrap();
    let err = fails(&["pretrain", "--config", bad.to_str().unwrap(), "--out", tmp("never").to_str().unwrap()]);
    assert!(err.contains("model.joints = 25") && err.contains("21 joints"), "{err}");
    assert!(!tmp("never").join("checkpoint.safetensors").exists());
    // A missing data file is named, without advice about resuming a run that does not exist.
    std::fs::write(&bad, "[run]\ndata = \"no-such-file.safetensors\"\n").unwrap();
    let err = fails(&["pretrain", "--config", bad.to_str().unwrap(), "--out", tmp("never").to_str().unwrap()]);
    assert!(err.contains("no-such-file.safetensors") && !err.contains("--resume"), "{err}");

    // An absurd learning rate: the loss blows up, the run stops naming the step, and the last good
    // checkpoint stays.
    let diverge = tmp("diverge.toml");
    let text = TINY_RUN
        .replace(
            "[schedule]\nepochs = 2\nwarmup_epochs = 1\n",
            "[schedule]\nlr = 1e30\nmin_lr = 1e30\nwarmup_epochs = 0\nepochs = 2\n",
        )
        .replace("checkpoint_every = 2", "checkpoint_every = 1");
    std::fs::write(&diverge, text).unwrap();
    let dir = tmp("run-diverge");
    let _ = std::fs::remove_dir_all(&dir);
    // (A folder where the loss curve goes: drawing it fails too, after the training error.)
    std::fs::create_dir_all(dir.join("loss.png")).unwrap();
    let err =
        fails(&["pretrain", "--config", diverge.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--device", "cpu"]);
    assert!(err.contains("non-finite loss") && err.contains("at step"), "{err}");
    assert!(err.contains("last good checkpoint"), "{err}");
    assert!(err.contains("the loss curve could not be drawn either"), "{err}");
    let ckpt: amr_core::pretrain::Checkpoint =
        amr_core::pretrain::Checkpoint::load(&dir.join("checkpoint.safetensors")).unwrap();
    let saved = ckpt.state.unwrap().steps;
    assert!(err.contains(&format!("at step {}", saved + 1)), "the checkpoint holds the step before: {saved}, {err}");
    assert!(ckpt.model.values().all(|t| t.values.iter().all(|x| x.is_finite())), "the kept model is finite");
}

#[test]
fn mamp_import_and_embed_reproduce_the_reference_features() {
    let Some(shared) = shared("mamp_import_and_embed_reproduce_the_reference_features") else { return };
    let fixtures = shared.join("fixtures/mamp-checkpoint");
    let pth = fixtures.join("checkpoint-399.pth");
    let out = tmp("mamp.safetensors");
    let msg = ok(&["import-mamp", pth.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(msg.contains("epoch 399") && msg.contains("encoder 2 x 64 (4 heads)"), "{msg}");
    let want = amr_core::data::parse_npy(&std::fs::read(fixtures.join("pooled_nd.npy")).unwrap(), &pth, "p").unwrap();
    let input = fixtures.join("input_nctvm.npy");
    for ckpt in [&out, &pth] {
        let feats = tmp("mamp-features.npy");
        ok(&[
            "embed",
            ckpt.to_str().unwrap(),
            input.to_str().unwrap(),
            "--out",
            feats.to_str().unwrap(),
            "--device",
            "cpu",
        ]);
        let got = amr_core::data::parse_npy(&std::fs::read(&feats).unwrap(), &feats, "f").unwrap();
        assert_eq!(got.shape, want.shape);
        let d = got.data.iter().zip(&want.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(d <= 1e-4, "{}: max diff {d}", ckpt.display());
    }
    let err = fails(&["embed", out.to_str().unwrap(), "embedded", "--out", tmp("x.npy").to_str().unwrap()]);
    assert!(err.contains("21 joints") && err.contains("25"), "{err}");
    let err = fails(&["import-mamp", input.to_str().unwrap(), tmp("y.safetensors").to_str().unwrap()]);
    assert!(err.contains("input_nctvm.npy"), "{err}");
}

#[test]
fn bench_prints_both_modes_and_the_ratio() {
    let json = tmp("bench.json");
    let out = ok(&[
        "bench",
        "--device",
        "cpu",
        "--batch",
        "1",
        "--warmup",
        "0",
        "--steps",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(out.contains("AMR (r = 6)") && out.contains("MAMP") && out.contains("AMR / MAMP:"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let flops = doc["flops_ratio"].as_f64().unwrap();
    // Spec 5: 4.88 vs 0.98 GMACs per person-sequence.
    assert!((flops - 4.88 / 0.978).abs() < 0.05, "{flops}");
}

#[test]
fn the_readme_config_example_parses_to_the_defaults() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let start = readme.find("```toml\n").expect("a toml block in the README") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let cfg = amr_core::pretrain::parse_pretrain_config(&readme[start..end], Path::new("README.md")).unwrap();
    assert_eq!(cfg, amr_core::pretrain::PretrainConfig::default(), "the example shows the defaults");
}

#[test]
fn focal_weights_from_the_gpu_kernel_train_the_same_run() {
    let (cfg, a, b) = tiny_run_setup("tiny-focal.toml", "run-focal-cpu", "run-focal-gpu");
    let c = cfg.to_str().unwrap();
    ok(&["pretrain", "--config", c, "--out", a.to_str().unwrap(), "--device", "cpu", "--max-steps", "3"]);
    ok(&[
        "pretrain",
        "--config",
        c,
        "--out",
        b.to_str().unwrap(),
        "--device",
        "cpu",
        "--max-steps",
        "3",
        "--focal-gpu",
    ]);
    let loss =
        |d: &Path| -> Vec<f64> { losses(d).iter().map(|r| r.split(',').nth(2).unwrap().parse().unwrap()).collect() };
    let (la, lb) = (loss(&a), loss(&b));
    assert_eq!(la.len(), 3);
    for (x, y) in la.iter().zip(&lb) {
        assert!((x - y).abs() <= 1e-5 * x.abs(), "cpu weights {x} vs kernel weights {y}");
    }
}

const TINY_EVAL: &str = "data = \"embedded\"\nbatch_size = 16\nepochs = 2\n[split]\nkind = \"stratified\"\ngroup = [\"style\", \"take\"]\ntest_share = 0.2\nseed = 0\n[finetune]\nhidden = 32\nlabel_fraction = 0.1\n[maskclr]\nhidden = 32\nstart_epoch = 1\n";

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

#[test]
fn evaluation_protocols_write_results_resume_and_feed_the_robustness_suite() {
    let (cfg, pre, _) = tiny_run_setup("tiny-eval-pretrain.toml", "eval-pretrain", "unused");
    ok(&[
        "pretrain",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        pre.to_str().unwrap(),
        "--device",
        "cpu",
        "--max-steps",
        "2",
    ]);
    let ckpt = pre.join("checkpoint.safetensors");
    let ec = tmp("tiny-eval.toml");
    std::fs::write(&ec, TINY_EVAL).unwrap();
    let run = |protocol: &str, name: &str, extra: &[&str]| -> PathBuf {
        let dir = tmp(name);
        let _ = std::fs::remove_dir_all(&dir);
        let mut args =
            vec![protocol, "--config", ec.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--device", "cpu"];
        args.extend_from_slice(extra);
        let out = ok(&args);
        assert!(out.contains(&format!("| {protocol} |")), "{out}");
        dir
    };
    let init = ["--init", ckpt.to_str().unwrap()];

    // The raw 1-NN baseline on the same split: an accuracy, written where asked.
    let base = tmp("eval-baseline");
    let _ = std::fs::remove_dir_all(&base);
    let out = ok(&["baseline", "--config", ec.to_str().unwrap(), "--out", base.to_str().unwrap()]);
    assert!(out.contains("| baseline |") && out.contains("raw centred coordinates"), "{out}");
    let b = results(&base);
    assert!(b["last"]["top1"].as_f64().is_some_and(|t| t > 10.0 && t <= 100.0), "{b}");

    let knn = results(&run("knn", "eval-knn", &init));
    let (train, test) = (knn["train_sequences"].as_u64().unwrap(), knn["test_sequences"].as_u64().unwrap());
    assert!(train + test == 210 && (25..=65).contains(&test), "whole takes, about 20 % per class: {train} / {test}");
    let top1 = knn["last"]["top1"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&top1) && top1 > 10.0, "kNN of 10 classes: {top1}");

    // The model alone (`export-model`) serves as --init with the same result; so does the model
    // shipped in the binary.
    let model = tmp("eval-model.safetensors");
    let _ = std::fs::remove_file(&model);
    let out = ok(&["export-model", pre.to_str().unwrap(), model.to_str().unwrap()]);
    assert!(out.contains("after 2 steps"), "{out}");
    assert!(std::fs::metadata(&model).unwrap().len() * 2 < std::fs::metadata(&ckpt).unwrap().len());
    let from_model = results(&run("knn", "eval-knn-model", &["--init", model.to_str().unwrap()]));
    assert_eq!(from_model["last"], knn["last"]);
    let shipped = results(&run("knn", "eval-knn-embedded", &["--init", "embedded"]));
    assert!(shipped["init"].as_str().is_some_and(|i| i.contains("embedded")), "{shipped}");
    assert!(shipped["last"]["top1"].as_f64().unwrap() > 10.0, "{shipped}");

    // The linear probe, unbroken and in two invocations: the same history.
    let whole = run("linear", "eval-linear", &init);
    let half = run("linear", "eval-linear-half", &[&init[..], &["--max-epochs", "1"]].concat());
    ok(&["linear", "--resume", half.to_str().unwrap(), "--device", "cpu"]);
    let strip = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("metrics.csv"))
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{},{},{},{},{}", f[0], f[1], f[2], f[4], f[5])
            })
            .collect()
    };
    assert_eq!(strip(&whole), strip(&half), "resumed run equals the unbroken one");
    let r = results(&whole);
    assert_eq!(r["epochs"].as_u64(), Some(2));
    assert!(r["best"]["top1"].as_f64() >= r["last"]["top1"].as_f64());
    assert!(std::fs::read_to_string(whole.join("results.md")).unwrap().contains("best epoch"));
    assert!(unique_colours(&whole.join("accuracy.png")) > 5);

    // Semi-supervised: 10 % of each class, the indices written.
    let semi = run("semi", "eval-semi", &init);
    let chosen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(semi.join("labelled.json")).unwrap()).unwrap();
    let n = chosen["indices"].as_array().unwrap().len();
    assert_eq!(results(&semi)["train_sequences"].as_u64(), Some(n as u64));
    assert!(n * 12 >= train as usize && n * 6 <= train as usize, "about 10 % of {train}, at least one per class: {n}");

    // MaskCLR against its supervised baseline under the perturbation suite.
    let sup = run("supervised", "eval-supervised", &init);
    let mcl = run("maskclr", "eval-maskclr", &init);
    assert!(!sup.join("labelled.json").exists(), "only semi-supervised runs draw a label subset");

    // The supervised classifier predicts every sequence of a file: the top classes, named, best first.
    let out = ok(&["predict", sup.to_str().unwrap(), "embedded", "--json", "--device", "cpu"]);
    let files: serde_json::Value = serde_json::from_str(&out).unwrap();
    let seqs = files[0]["sequences"].as_array().unwrap();
    assert_eq!(seqs.len(), 210);
    let demo_names = ok(&["inspect", "embedded"]);
    for s in seqs {
        let top = s["top"].as_array().unwrap();
        assert_eq!(top.len(), 5);
        let p: Vec<f64> = top.iter().map(|c| c["probability"].as_f64().unwrap()).collect();
        assert!(p.windows(2).all(|w| w[0] >= w[1]) && p.iter().sum::<f64>() <= 1.0 + 1e-5, "{p:?}");
        let name = top[0]["name"].as_str().unwrap();
        assert!(!name.starts_with("class ") && demo_names.contains(name), "{name}");
        assert!(s["label"].as_str().is_some_and(|l| demo_names.contains(l)));
    }
    let table = ok(&["predict", sup.join("eval.safetensors").to_str().unwrap(), "embedded", "--top", "2"]);
    assert_eq!(table.lines().count(), 2 + 210, "{table}");
    assert_eq!(table.lines().nth(2).unwrap().matches(" %)").count(), 2, "{table}");
    let two_joints = tmp("two-joints.bvh");
    std::fs::write(&two_joints, "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Xposition Yposition Zposition\n  JOINT Head\n  {\n    OFFSET 0 50 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n    End Site\n    {\n      OFFSET 0 10 0\n    }\n  }\n}\nMOTION\nFrames: 2\nFrame Time: 0.033333\n0 100 0 0 0 0\n10 100 0 0 0 0\n").unwrap();
    let err = fails(&["predict", sup.to_str().unwrap(), two_joints.to_str().unwrap(), "--device", "cpu"]);
    assert!(err.contains("two-joints.bvh") && err.contains("has 2 joints") && err.contains("21 joints"), "{err}");
    let err = fails(&["predict", ckpt.to_str().unwrap(), "embedded", "--device", "cpu"]);
    assert!(err.contains("not an evaluation checkpoint"), "{err}");
    let rob = tmp("eval-robustness");
    let out = ok(&[
        "robustness",
        "--models",
        &format!("{},{}", sup.display(), mcl.display()),
        "--names",
        "sup,mcl",
        "--out",
        rob.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert!(out.contains("| perturbation | sup top-1 | mcl top-1 |") && out.contains("occlude left-arm"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("| noise sigma")).count(), 11);
    for f in ["robustness.json", "noise.png", "occlusion.png"] {
        assert!(rob.join(f).exists(), "{f}");
    }

    // Retesting a finished run on its own centre crop reproduces its last epoch; other windows give
    // an accuracy of their own and leave the run folder as it was.
    let saved = std::fs::read(sup.join("eval.safetensors")).unwrap();
    let retest = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["retest", sup.to_str().unwrap(), "--json", "--device", "cpu"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&args)).unwrap()
    };
    let own = retest(&[]);
    assert_eq!(own["tested"], results(&sup)["last"], "{own}");
    assert_eq!(own["windows"].as_array().map(Vec::len), Some(1), "{own}");
    let several = retest(&["--windows", "0.95@0.5,0.6@0,0.6@1"]);
    assert_eq!(several["windows"][2], serde_json::json!({ "share": 0.6, "at": 1.0 }), "{several}");
    assert!(several["tested"]["top1"].as_f64().is_some_and(|t| (0.0..=100.0).contains(&t)), "{several}");
    let table = ok(&["retest", sup.to_str().unwrap(), "--device", "cpu"]);
    assert!(table.contains("| tested |") && table.contains("windows 0.95@0.5"), "{table}");
    assert_eq!(std::fs::read(sup.join("eval.safetensors")).unwrap(), saved, "retest writes nothing");
    let err = fails(&["retest", sup.to_str().unwrap(), "--windows", "0.6@2"]);
    assert!(err.contains("--windows") && err.contains("clip.test_windows[0]") && err.contains("[0, 1]"), "{err}");
    let err = fails(&["retest", sup.to_str().unwrap(), "--windows", "half@0"]);
    assert!(err.contains("half@0") && err.contains("SHARE@AT"), "{err}");
    // The robustness suite on the same windows: its clean row (noise sigma 0) is the retest's figure.
    let rob_w = tmp("eval-robustness-windows");
    let w = ["--windows", "0.95@0.5,0.6@0,0.6@1", "--device", "cpu"];
    ok(&[&["robustness", "--models", sup.to_str().unwrap(), "--out", rob_w.to_str().unwrap()][..], &w].concat());
    let rj: serde_json::Value = serde_json::from_slice(&std::fs::read(rob_w.join("robustness.json")).unwrap()).unwrap();
    let model = &rj["models"][0];
    assert_eq!(model["windows"], several["windows"], "{rj}");
    assert_eq!(model["accuracy"][0][0], serde_json::json!({ "kind": "noise", "sigma": 0.0 }), "{rj}");
    assert_eq!(model["accuracy"][0][1], several["tested"], "{rj}");

    // Errors name what is wrong.
    let err = fails(&["transfer", "--config", ec.to_str().unwrap(), "--out", tmp("never-t").to_str().unwrap()]);
    assert!(err.contains("--init"), "{err}");
    // Data of another joint layout (25 joints, written here) for an encoder of 21.
    let other = tmp("ntu25.safetensors");
    let ntu = amr_core::data::synthetic_dataset(&amr_core::skeleton::ntu25(), 4, 40, 1, 1);
    std::fs::write(&other, amr_core::data::write_amr_skeleton(&ntu, amr_core::data::Precision::F32).unwrap()).unwrap();
    let err = fails(&[
        "transfer",
        "--config",
        ec.to_str().unwrap(),
        "--init",
        ckpt.to_str().unwrap(),
        "--data",
        other.to_str().unwrap(),
        "--out",
        tmp("never-t").to_str().unwrap(),
    ]);
    assert!(err.contains("21 joints") && err.contains("25") && err.contains("joint layout"), "{err}");
    let err = fails(&["robustness", "--models", whole.to_str().unwrap(), "--out", tmp("never-r").to_str().unwrap()]);
    assert!(err.contains("linear") && err.contains("no fine-tuned classifier"), "{err}");
    let bad = tmp("bad-eval.toml");
    std::fs::write(&bad, "[finetune]\ndrop_path = 1.5\n").unwrap();
    let err = fails(&["finetune", "--config", bad.to_str().unwrap(), "--out", tmp("never-f").to_str().unwrap()]);
    assert!(err.contains("bad-eval.toml") && err.contains("finetune.drop_path"), "{err}");
}

#[test]
fn a_run_killed_at_random_points_resumes_to_the_unbroken_run_bit_for_bit() {
    // Checkpoints after every step, so that kills land in checkpoint writes as well as in steps.
    let cfg = tmp("drill.toml");
    let text = TINY_RUN.replace("checkpoint_every = 2", "checkpoint_every = 1").replace("epochs = 2\n", "epochs = 8\n");
    std::fs::write(&cfg, text).unwrap();
    let c = cfg.to_str().unwrap();
    let (whole, killed) = (tmp("drill-whole"), tmp("drill-killed"));
    for d in [&whole, &killed] {
        let _ = std::fs::remove_dir_all(d);
    }
    // 8 epochs of 26 steps.
    ok(&["pretrain", "--config", c, "--out", whole.to_str().unwrap(), "--device", "cpu"]);

    let mut rng = amr_core::rng::SeededRng::new(2026);
    let (mut kills, mut torn_writes) = (0, 0);
    let has_checkpoint =
        |d: &Path| d.join("checkpoint.safetensors").exists() || d.join("checkpoint.prev.safetensors").exists();
    // At least 5 kills, and on until one has cut a checkpoint write short (its temporary file left).
    while kills < 5 || torn_writes == 0 {
        assert!(kills < 60, "60 kills and none during a checkpoint write");
        let done = std::fs::read_to_string(killed.join("metrics.csv")).map(|t| t.lines().count()).unwrap_or(0);
        if done > 208 {
            // The run finished between kills: start it again.
            let _ = std::fs::remove_dir_all(&killed);
        }
        let mut args: Vec<&str> = vec!["--no-gui", "pretrain", "--device", "cpu"];
        let dir = killed.to_str().unwrap();
        if has_checkpoint(&killed) {
            args.extend(["--resume", dir]);
        } else {
            let _ = std::fs::remove_dir_all(&killed);
            args.extend(["--config", c, "--out", dir]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_amr"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let wait = 150 + (rng.uniform() * 700.0) as u64;
        std::thread::sleep(std::time::Duration::from_millis(wait));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            kills += 1;
        }
        child.wait().unwrap();
        // (A resume removes the temporary files of the kill before it: these are this kill's.)
        torn_writes += std::fs::read_dir(&killed)
            .map(|r| {
                r.flatten().filter(|e| e.file_name().to_string_lossy().contains("checkpoint.safetensors.tmp")).count()
            })
            .unwrap_or(0);
    }
    eprintln!("kill drill: {kills} kills, {torn_writes} of them during a checkpoint write");
    // Resumed until the schedule's 208 steps are done.
    let out = ok(&["pretrain", "--resume", killed.to_str().unwrap(), "--device", "cpu"]);
    assert!(out.contains("step 208/208"), "{out}");
    assert_eq!(losses(&killed), losses(&whole), "every step's loss as in the unbroken run");
    let load = |d: &Path| {
        amr_core::pretrain::Checkpoint::<amr_core::pretrain::PretrainConfig>::load(&d.join("checkpoint.safetensors"))
            .unwrap()
    };
    let (a, b) = (load(&whole), load(&killed));
    assert_eq!(a.model, b.model, "the parameters, bit for bit");
    assert_eq!(a.optimizer, b.optimizer, "the optimiser's moments, bit for bit");
    let left: Vec<_> = std::fs::read_dir(&killed)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "the resumed run removes the temporary files of cut writes: {left:?}");
}
