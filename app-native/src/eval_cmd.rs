//! The evaluation commands: `amr --no-gui linear | finetune | semi | transfer | knn | supervised |
//! maskclr` (one run folder each) and `robustness` (several fine-tuned models under the perturbation
//! suite).
//!
//! A run folder holds `config.toml` (the resolved config), `metrics.csv` (one row per epoch),
//! `eval.safetensors` (model, optimiser, generator, subset, history; rewritten atomically after every
//! epoch), `results.json` and `results.md` (the last epoch's accuracy and, labelled as such, the best
//! epoch's), `accuracy.png`, and for semi-supervised runs `labelled.json` (the chosen sequences).

use std::path::{Path, PathBuf};

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::data::Dataset;
use amr_core::data::clip::TestWindow;
use amr_core::eval::{
    Accuracy, EvalCheckpoint, EvalConfig, EvalResults, EvalTrainer, Perturbation, Protocol, knn_eval,
    parse_eval_config, raw_nearest_neighbour, robustness_suite,
};
use amr_core::model::NamedParams;
use amr_core::rng::SeededRng;
use amr_core::skeleton::BodyPart;
use anyhow::Context;
use clap::Args;

use crate::inputs::{load_dataset, load_init};

/// Arguments shared by the evaluation commands.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A TOML config (keys left out keep the protocol's published defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The run folder (created; must not hold a run already, unless with --resume).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder.
    #[arg(long, conflicts_with_all = ["config", "out", "init", "data", "epochs"])]
    pub resume: Option<PathBuf>,
    /// The pretrained encoder (overrides `init`): an AMR checkpoint, a MAMP `.pth`, or `embedded` (the
    /// AMR model shipped in the binary, pretrained on Bandai-2).
    #[arg(long)]
    pub init: Option<String>,
    /// The dataset (overrides `data`).
    #[arg(long)]
    pub data: Option<String>,
    /// Training epochs (overrides `epochs`).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Stop after this many epochs of this invocation (the run can be resumed later).
    #[arg(long)]
    pub max_epochs: Option<usize>,
    /// Compute device: auto, gpu (wgpu) or cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// Arguments of `robustness`.
#[derive(Args, Debug)]
pub struct RobustnessArgs {
    /// Run folders of fine-tuned models (`finetune`, `supervised`, `maskclr`, ...), comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub models: Vec<PathBuf>,
    /// Names of the models in the table and plots (default: the folder names).
    #[arg(long, value_delimiter = ',')]
    pub names: Vec<String>,
    /// Output folder: robustness.json, robustness.md, noise.png, occlusion.png.
    #[arg(long)]
    pub out: PathBuf,
    /// Largest noise sigma, metres (swept in 10 steps from 0).
    #[arg(long, default_value_t = 0.01)]
    pub max_sigma: f64,
    /// Seed of the perturbations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Test windows `SHARE@AT` for every model, comma separated (the mean logits over them, as
    /// `[clip] test_windows`). Default: each run's own setting.
    #[arg(long, value_delimiter = ',', value_parser = crate::windows_arg::parse_window)]
    pub windows: Vec<TestWindow>,
    /// Compute device: auto, gpu (wgpu) or cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// The checkpoint's file name in an evaluation run folder.
pub(crate) const CHECKPOINT: &str = "eval.safetensors";

/// The checkpoint file of `path`: an evaluation run folder's [`CHECKPOINT`], or `path` itself.
pub(crate) fn checkpoint_file(path: &Path) -> PathBuf {
    if path.is_dir() { path.join(CHECKPOINT) } else { path.to_path_buf() }
}

fn read_config(args: &EvalArgs, protocol: Protocol) -> anyhow::Result<EvalConfig> {
    let mut cfg = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            parse_eval_config(&text, p, protocol)?
        }
        None => EvalConfig::for_protocol(protocol),
    };
    if let Some(d) = &args.data {
        cfg.data.clone_from(d);
    }
    if let Some(i) = &args.init {
        cfg.init.clone_from(i);
    }
    if let Some(e) = args.epochs {
        cfg.epochs = e;
    }
    Ok(cfg)
}

/// Loads the config's encoder checkpoint, taking the model's shape from it.
fn resolve_init(cfg: &mut EvalConfig, ds: &Dataset) -> anyhow::Result<Option<NamedParams>> {
    if cfg.init.is_empty() {
        if cfg.protocol == Protocol::Transfer {
            anyhow::bail!("transfer needs a pretrained encoder: set `init` or pass --init");
        }
        if cfg.model.joints != ds.layout.joint_count() {
            eprintln!(
                "random encoder: model.joints {} -> {} (the dataset's joints)",
                cfg.model.joints,
                ds.layout.joint_count()
            );
            cfg.model.joints = ds.layout.joint_count();
        }
        return Ok(None);
    }
    let (params, model) = load_init(&cfg.init).with_context(|| format!("init = {}", cfg.init))?;
    model.check_fits(&params, false).map_err(|e| anyhow::anyhow!("init = {}: {e}", cfg.init))?;
    if model.joints != ds.layout.joint_count() {
        anyhow::bail!(
            "{}: the encoder was trained on {} joints, {} has {}: transfer needs the same joint layout",
            cfg.init,
            model.joints,
            cfg.data,
            ds.layout.joint_count()
        );
    }
    cfg.clip.frames = model.frames;
    cfg.model = model;
    Ok(Some(params))
}

/// `amr --no-gui baseline`: 1-NN on the raw centred clips of the config's split.
pub fn baseline(a: &EvalArgs) -> anyhow::Result<()> {
    let cfg = read_config(a, Protocol::Knn)?;
    cfg.validate().map_err(|e| anyhow::anyhow!("config: {e}"))?;
    let ds = load_dataset(&cfg.data).with_context(|| format!("data = {}", cfg.data))?;
    let split = cfg.split.apply(&ds).map_err(|e| anyhow::anyhow!("{}: {e}", cfg.data))?;
    let r = raw_nearest_neighbour(&cfg, &ds, &split).map_err(|e| anyhow::anyhow!(e))?;
    let mut results = EvalResults::knn(
        &cfg.data,
        "raw centred coordinates, 1-NN",
        split.train.len(),
        split.test.len(),
        ds.label_names.len(),
        &r,
    );
    results.protocol = "baseline".into();
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        write_results(out, &results)?;
    }
    print!("{}", results.markdown());
    Ok(())
}

fn write_results(dir: &Path, r: &EvalResults) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(r)?;
    amr_core::io::write_atomically(&dir.join("results.json"), json.as_bytes())?;
    amr_core::io::write_atomically(&dir.join("results.md"), r.markdown().as_bytes())?;
    Ok(())
}

fn new_dir(out: Option<&PathBuf>, protocol: Protocol) -> anyhow::Result<PathBuf> {
    let dir = out.cloned().unwrap_or_else(|| {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        PathBuf::from(format!("runs/{}-{secs}", protocol.name()))
    });
    if dir.join(CHECKPOINT).exists() || dir.join("results.json").exists() {
        anyhow::bail!("{} already holds a run; continue it with --resume or choose another --out", dir.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Runs one evaluation protocol.
pub fn run(protocol: Protocol, a: &EvalArgs) -> anyhow::Result<()> {
    let (device, device_name) = resolve_device(a.device);
    let (dir, mut trainer, ds, cfg) = if let Some(dir) = &a.resume {
        let path = dir.join(CHECKPOINT);
        let ckpt = EvalCheckpoint::load(&path).with_context(|| format!("resuming from {}", dir.display()))?;
        if ckpt.config.protocol != protocol {
            anyhow::bail!("{} holds a `{}` run, not `{}`", dir.display(), ckpt.config.protocol.name(), protocol.name());
        }
        let ds = load_dataset(&ckpt.config.data).with_context(|| format!("data = {}", ckpt.config.data))?;
        let t = EvalTrainer::resume(&ckpt, &ds, &device).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        (dir.clone(), t, ds, ckpt.config)
    } else {
        let mut cfg = read_config(a, protocol)?;
        let ds = load_dataset(&cfg.data).with_context(|| format!("data = {}", cfg.data))?;
        let init = resolve_init(&mut cfg, &ds)?;
        cfg.validate().map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let split = cfg.split.apply(&ds).map_err(|e| anyhow::anyhow!("{}: {e}", cfg.data))?;
        let dir = new_dir(a.out.as_ref(), protocol)?;
        amr_core::io::write_atomically(&dir.join("config.toml"), amr_core::config_file::config_toml(&cfg).as_bytes())?;
        if protocol == Protocol::Knn {
            let r = knn_eval(&cfg, &ds, &split, init.as_ref(), &device).map_err(|e| anyhow::anyhow!(e))?;
            let results =
                EvalResults::knn(&cfg.data, &cfg.init, split.train.len(), split.test.len(), ds.label_names.len(), &r);
            write_results(&dir, &results)?;
            print!("{}", results.markdown());
            println!("wrote {} (k = {}, {device_name})", dir.display(), cfg.knn.k);
            return Ok(());
        }
        let t = EvalTrainer::new(cfg.clone(), &ds, &split, init.as_ref(), &device).map_err(|e| anyhow::anyhow!(e))?;
        if t.labelled().len() != split.train.len() {
            let json = serde_json::to_string(&serde_json::json!({
                "label_fraction": cfg.finetune.label_fraction,
                "seed": cfg.seed,
                "indices": t.labelled(),
            }))?;
            amr_core::io::write_atomically(&dir.join("labelled.json"), json.as_bytes())?;
        }
        (dir, t, ds, cfg)
    };
    eprintln!(
        "{} on {} ({} training, {} test sequences) on {device_name}: epochs {}..{} of {}, run folder {}",
        protocol.name(),
        cfg.data,
        trainer.labelled().len(),
        trainer.test_sequences(),
        trainer.epoch(),
        cfg.epochs,
        cfg.epochs,
        dir.display()
    );
    let bar = indicatif::ProgressBar::new(cfg.epochs as u64).with_position(trainer.epoch() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epochs  {elapsed_precise} elapsed, ETA {eta_precise}  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let metrics = dir.join("metrics.csv");
    let end = a.max_epochs.map_or(cfg.epochs, |k| (trainer.epoch() + k).min(cfg.epochs));
    while trainer.epoch() < end {
        let r = trainer
            .epoch_step(&ds)
            .map_err(|e| anyhow::anyhow!("{e}; {} holds the last completed epoch", dir.join(CHECKPOINT).display()))?;
        bar.set_position(r.epoch as u64);
        bar.set_message(format!("loss {:.4}  top-1 {:.2}  top-5 {:.2}", r.loss, r.test.top1, r.test.top5));
        let ckpt = trainer.checkpoint().map_err(|e| anyhow::anyhow!(e))?;
        ckpt.save(&dir.join(CHECKPOINT))?;
        write_metrics(&metrics, trainer.history())?;
        write_results(&dir, &trainer.results(&cfg.data, &cfg.init))?;
    }
    bar.finish_and_clear();
    // results.json and results.md were written after the last epoch.
    let results = trainer.results(&cfg.data, &cfg.init);
    if trainer.epoch() < cfg.epochs {
        print!("{}", results.markdown());
        println!("stopped after epoch {} of {}; continue with --resume {}", trainer.epoch(), cfg.epochs, dir.display());
        return Ok(());
    }
    let h = trainer.history();
    let series = vec![
        ("test top-1".to_string(), h.iter().map(|r| (r.epoch as f64, r.test.top1)).collect()),
        ("test top-5".to_string(), h.iter().map(|r| (r.epoch as f64, r.test.top5)).collect()),
    ];
    crate::charts::lines(&dir.join("accuracy.png"), &format!("{} accuracy", protocol.name()), "epoch", &series)?;
    print!("{}", results.markdown());
    println!(
        "last epoch top-1 {:.2} top-5 {:.2}; best epoch {} top-1 {:.2} (max over test epochs, as the published code reports); wrote {}",
        results.last.top1,
        results.last.top5,
        results.best_epoch,
        results.best.top1,
        dir.display()
    );
    Ok(())
}

fn write_metrics(path: &Path, rows: &[amr_core::eval::EpochReport]) -> anyhow::Result<()> {
    // top1/top5: the run's model (the weight average once it has begun, with recomputed BatchNorm
    // statistics where asked); current_top1: the current weights while that model is not them, else
    // empty; current_norm_top1: the current weights with recomputed statistics while that model is a
    // weight average with them, else empty.
    let mut s = String::from("epoch,loss,lr,seconds,top1,top5,current_top1,current_norm_top1\n");
    let top1 = |a: Option<Accuracy>| a.map(|a| format!("{:.4}", a.top1)).unwrap_or_default();
    for r in rows {
        s.push_str(&format!(
            "{},{},{:e},{:.3},{:.4},{:.4},{},{}\n",
            r.epoch,
            r.loss,
            r.lr,
            r.seconds,
            r.test.top1,
            r.test.top5,
            top1(r.current),
            top1(r.current_norm)
        ));
    }
    amr_core::io::write_atomically(path, s.as_bytes())?;
    Ok(())
}

/// One model's accuracy under every perturbation.
#[derive(Debug, serde::Serialize)]
struct ModelRobustness {
    name: String,
    folder: String,
    /// The test windows a sequence is scored from.
    windows: Vec<TestWindow>,
    accuracy: Vec<(Perturbation, Accuracy)>,
}

/// Runs `robustness`.
pub fn robustness(a: &RobustnessArgs) -> anyhow::Result<()> {
    let (device, device_name) = resolve_device(a.device);
    let mut models = Vec::new();
    let mut suite = Vec::new();
    for (k, dir) in a.models.iter().enumerate() {
        let path = dir.join(CHECKPOINT);
        let mut ckpt = EvalCheckpoint::load(&path)?;
        crate::windows_arg::set_windows(&mut ckpt, &a.windows).with_context(|| path.display().to_string())?;
        if !ckpt.config.protocol.trains_encoder() {
            anyhow::bail!(
                "{}: a `{}` run has no fine-tuned classifier; use finetune, supervised or maskclr runs",
                dir.display(),
                ckpt.config.protocol.name()
            );
        }
        let ds = load_dataset(&ckpt.config.data).with_context(|| format!("data = {}", ckpt.config.data))?;
        let mut t = EvalTrainer::resume(&ckpt, &ds, &device).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let parts: Vec<(String, Vec<usize>)> =
            [BodyPart::Head, BodyPart::LeftArm, BodyPart::RightArm, BodyPart::LeftLeg, BodyPart::RightLeg]
                .iter()
                .map(|&p| (p.name().to_string(), ds.layout.joints_of(p)))
                .collect();
        let this_suite = robustness_suite(&parts, a.max_sigma, 10, 0.002);
        if k == 0 {
            suite.clone_from(&this_suite);
        } else if this_suite != suite {
            anyhow::bail!(
                "{}: a different joint layout from the first model; compare models of one dataset",
                dir.display()
            );
        }
        let name = a
            .names
            .get(k)
            .cloned()
            .unwrap_or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        eprintln!("{name}: {} perturbations of {} test sequences on {device_name}", suite.len(), t.test_sequences());
        let mut accuracy = Vec::new();
        for (i, p) in suite.iter().enumerate() {
            let mut rng = SeededRng::new(a.seed.wrapping_add(i as u64));
            let acc = t.perturbed_accuracy(p, &mut rng).map_err(|e| anyhow::anyhow!(e))?;
            accuracy.push((p.clone(), acc));
        }
        let windows = ckpt.config.clip.test_views();
        models.push(ModelRobustness { name, folder: dir.display().to_string(), windows, accuracy });
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "unit": "sigma in metres (the model's input coordinates)",
        "seed": a.seed,
        "models": models,
    }))?;
    amr_core::io::write_atomically(&a.out.join("robustness.json"), json.as_bytes())?;
    let mut md = String::from("| perturbation |");
    for m in &models {
        md.push_str(&format!(" {} top-1 |", m.name));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(models.len()));
    md.push('\n');
    for (i, p) in suite.iter().enumerate() {
        md.push_str(&format!("| {} |", p.label()));
        for m in &models {
            md.push_str(&format!(" {:.2} |", m.accuracy[i].1.top1));
        }
        md.push('\n');
    }
    amr_core::io::write_atomically(&a.out.join("robustness.md"), md.as_bytes())?;
    // One line per model against sigma; one bar per model and non-noise condition.
    let (mut noise, mut occ): (Vec<crate::charts::Series>, Vec<crate::charts::Series>) = (Vec::new(), Vec::new());
    for m in &models {
        let (mut line, mut bars) = (Vec::new(), Vec::new());
        for (p, acc) in &m.accuracy {
            match p {
                Perturbation::Noise { sigma } => line.push((*sigma, acc.top1)),
                _ => bars.push((bars.len() as f64, acc.top1)),
            }
        }
        noise.push((m.name.clone(), line));
        occ.push((m.name.clone(), bars));
    }
    crate::charts::lines(&a.out.join("noise.png"), "Top-1 under Gaussian noise", "sigma (m)", &noise)?;
    let groups: Vec<String> = suite
        .iter()
        .filter(|p| !matches!(p, Perturbation::Noise { .. }))
        .map(|p| p.label().replace("occlude ", "").replace("mask ", "").replace(" + noise ", " + σ "))
        .collect();
    crate::charts::bars(&a.out.join("occlusion.png"), "Top-1 under occlusion and frame masking", &groups, &occ)?;
    print!("{md}");
    println!("wrote {} (robustness.json, robustness.md, noise.png, occlusion.png)", a.out.display());
    Ok(())
}
