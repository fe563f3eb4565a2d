//! Writes the starting corpus of every fuzz target (`fuzz/`, run by `scripts/fuzz.sh`) into
//! `OUT/<target>/`: small real files (the embedded Bandai-Namco demo clips, cut short) in every
//! format we read, a tiny pretraining and evaluation checkpoint, URL fragments and stored settings.
//! Formats whose real files are not in the repository (ASF/AMC, the MAMP checkpoint) are seeded by
//! `scripts/fuzz.sh` from `../shared` when it is there.
//!
//! `cargo run -p amr-ui --example fuzz_seeds -- OUT`

use std::error::Error;
use std::path::{Path, PathBuf};

use amr_core::data::{
    BvhOptions, Dataset, Precision, SecondPerson, Sequence, parse_bvh, parse_ntu_skeleton, write_amr_skeleton,
    write_npy_f32, write_npz_f32,
};
use amr_core::eval::{EvalConfig, EvalTrainer, Protocol, Split};
use amr_core::model::{AmrConfig, named_params};
use amr_core::pretrain::{Checkpoint, PretrainConfig};

type Res<T> = Result<T, Box<dyn Error>>;

fn put(out: &Path, target: &str, name: &str, bytes: &[u8]) -> Res<()> {
    let dir = out.join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// The first `frames` frames of `seq`.
fn cut(seq: &Sequence, frames: usize) -> Sequence {
    let frames = frames.min(seq.frames);
    let mut s = seq.clone();
    s.positions.truncate(frames * seq.frame_len());
    s.frames = frames;
    s
}

/// `ds` with its first `n` sequences cut to `frames` frames.
fn small(ds: &Dataset, n: usize, frames: usize) -> Dataset {
    let mut s = ds.subset(&(0..n.min(ds.len())).collect::<Vec<_>>());
    for q in &mut s.sequences {
        *q = cut(q, frames);
    }
    s
}

/// A BVH file cut to its first `frames` frames.
fn cut_bvh(text: &str, frames: usize) -> String {
    let Some(at) = text.find("MOTION") else { return text.to_string() };
    let mut out = text[..at].to_string();
    let mut lines = text[at..].lines();
    let mut motion = 0;
    for line in lines.by_ref() {
        if line.trim_start().starts_with("Frames:") {
            out.push_str(&format!("Frames: {frames}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
        if line.trim_start().starts_with("Frame Time:") {
            break;
        }
    }
    for line in lines {
        if motion == frames {
            break;
        }
        out.push_str(line);
        out.push('\n');
        motion += 1;
    }
    out
}

/// An NTU `.skeleton` text: `bodies` standing figures (taller than wide, as the denoising wants),
/// swaying over `frames` frames (at least 11, the denoising's minimum).
fn ntu_text(frames: usize, bodies: usize) -> String {
    let mut s = format!("{frames}\n");
    for t in 0..frames {
        s.push_str(&format!("{bodies}\n"));
        for b in 0..bodies {
            s.push_str(&format!("7200000000000{b} 0 1 1 1 1 0 0.1 0.2 2\n25\n"));
            for v in 0..25 {
                let x = v as f32 * 0.01 + b as f32 + (t as f32 * 0.3).sin() * 0.05;
                let y = v as f32 * 0.07 - 0.8;
                s.push_str(&format!("{x} {y} 3.1 0 0 0 0 0 0 0 0 2\n"));
            }
        }
    }
    s
}

/// An NTU `.npz` of `seqs` (`x_*` (N, T, 150), `y_*` one-hot (N, classes)).
fn ntu_npz(seqs: &[Sequence], frames: usize, classes: usize) -> Res<Vec<u8>> {
    let mut x = vec![0.0f32; seqs.len() * frames * 150];
    let mut y = vec![0.0f32; seqs.len() * classes];
    for (i, q) in seqs.iter().enumerate() {
        let n = q.frames.min(frames) * 150;
        x[i * frames * 150..i * frames * 150 + n].copy_from_slice(&q.positions[..n]);
        y[i * classes + i % classes] = 1.0;
    }
    let (xs, ys): (&[usize], &[usize]) = (&[seqs.len(), frames, 150], &[seqs.len(), classes]);
    Ok(write_npz_f32(&[("x_train", xs, &x), ("y_train", ys, &y), ("x_test", xs, &x), ("y_test", ys, &y)])?)
}

fn main() -> Res<()> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz_seeds OUT")?);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let demo = amr_core::demo::demo_dataset()?;

    // amr-skeleton: real clips, cut short, in both precisions.
    let two = small(&demo, 2, 6);
    put(&out, "amr_skeleton", "demo-f32.safetensors", &write_amr_skeleton(&two, Precision::F32)?)?;
    put(&out, "amr_skeleton", "demo-f16.safetensors", &write_amr_skeleton(&small(&demo, 1, 4), Precision::F16)?)?;

    // BVH: the repository's Bandai-Namco takes, cut to a few frames.
    let bvh_dir = root.join("tests/data/bandai2-bvh");
    let mut bvh: Vec<_> = std::fs::read_dir(&bvh_dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bvh"))
        .collect();
    bvh.sort();
    for p in bvh.iter().take(2) {
        let text = cut_bvh(&std::fs::read_to_string(p)?, 3);
        parse_bvh(&text, p, BvhOptions::default())?;
        put(&out, "bvh", &p.file_name().unwrap_or_default().to_string_lossy(), text.as_bytes())?;
    }

    // NTU: synthetic NTU-25 motion (no NTU file may be copied) as `.skeleton` text and as npz.
    let ntu = amr_core::data::synthetic_dataset(&amr_core::skeleton::ntu25(), 3, 5, 2, 7);
    for bodies in [1, 2] {
        let text = ntu_text(12, bodies);
        parse_ntu_skeleton(&text, Path::new("S001C001P001R001A001.skeleton"), SecondPerson::Zero)?;
        put(&out, "ntu_skeleton", &format!("S001C001P001R001A00{bodies}.skeleton"), text.as_bytes())?;
    }
    let npz = ntu_npz(&ntu.sequences, 5, 3)?;
    amr_core::data::read_ntu_npz(&npz, Path::new("seed.npz"))?;
    put(&out, "ntu_npz", "synthetic.npz", &npz)?;
    put(&out, "npy", "f32-3d.npy", &write_npy_f32(&[2, 3, 4], &(0..24).map(|v| v as f32).collect::<Vec<_>>()))?;
    put(&out, "npy", "f32-1d.npy", &write_npy_f32(&[3], &[1.0, 0.0, -1.0]))?;

    // Checkpoints: a tiny pretraining model and a tiny linear-probe classifier on two demo classes.
    let device = amr_core::backend::cpu_device();
    let model = AmrConfig::new()
        .with_joints(demo.layout.joint_count())
        .with_frames(8)
        .with_patch(4)
        .with_r(2)
        .with_dim(8)
        .with_heads(2)
        .with_mlp(8)
        .with_encoder_depth(1)
        .with_decoder_depth(1);
    let mut pretrain = PretrainConfig { model: model.clone(), ..PretrainConfig::default() };
    pretrain.clip.frames = 8;
    pretrain.validate()?;
    let params = named_params(&model.init_seeded(&device, 1));
    let ckpt: Checkpoint =
        Checkpoint { config: pretrain.clone(), model: params, optimizer: Default::default(), state: None };
    put(&out, "checkpoint", "pretrain.safetensors", &ckpt.to_bytes()?)?;
    let mut eval = EvalConfig::for_protocol(Protocol::Linear);
    eval.model = model;
    eval.clip.frames = 8;
    eval.epochs = 1;
    eval.batch_size = 4;
    eval.split = Split::Stratified { group: vec![], test_share: 0.5, seed: 0 };
    let classes = small(&demo, 8, 10);
    let split = eval.split.apply(&classes)?;
    let trainer = EvalTrainer::new(eval.clone(), &classes, &split, None, &device)?;
    put(&out, "checkpoint", "linear.safetensors", &trainer.checkpoint()?.to_bytes()?)?;

    // Run configs: the repository's recipes and the defaults.
    for e in std::fs::read_dir(root.join("configs"))?.filter_map(Result::ok).filter(|e| e.path().is_file()) {
        put(&out, "run_config", &e.file_name().to_string_lossy(), &std::fs::read(e.path())?)?;
    }
    put(&out, "run_config", "pretrain-default.toml", amr_core::pretrain::pretrain_config_toml(&pretrain).as_bytes())?;
    put(&out, "run_config", "linear.toml", amr_core::config_file::config_toml(&eval).as_bytes())?;

    // The page's URL fragment and the apps' stored settings.
    for (i, hash) in [
        "#tab=explore&s=3&f=10&j=2",
        "#k=2.5&eps=0.01&n=4,8,12&fusion=mean",
        "#tab=reconstruct&seed=7&side=1&view=scale1&mask=motion",
    ]
    .iter()
    .enumerate()
    {
        put(&out, "url_fragment", &format!("hash{i}"), hash.as_bytes())?;
    }
    put(&out, "stored_settings", "default.json", serde_json::to_string(&amr_ui::Settings::default())?.as_bytes())?;
    println!("seeds written to {}", out.display());
    Ok(())
}
