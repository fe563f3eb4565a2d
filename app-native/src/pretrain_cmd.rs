//! `amr --no-gui pretrain`: headless pretraining into a run folder.
//!
//! The folder holds `config.toml` (the resolved config), `metrics.csv` (one row per step),
//! `checkpoint.safetensors` (model, optimiser, generator, data order, step; rewritten atomically every
//! `run.checkpoint_every` steps and at the end), and `loss.png` / `loss.svg`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::data::Dataset;
use amr_core::pretrain::{
    Checkpoint, PretrainConfig, StepReport, TrainError, Trainer, parse_pretrain_config, pretrain_config_toml,
};
use anyhow::Context;
use clap::Args;

/// Arguments of `pretrain`.
#[derive(Args, Debug)]
pub struct PretrainArgs {
    /// A TOML run config (keys left out keep the paper's defaults). Without one, a small demo run on
    /// the embedded data that ends in minutes on a CPU.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The run folder (created; must not hold a run already, unless with --resume).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its checkpoint.
    #[arg(long, conflicts_with_all = ["config", "out"])]
    pub resume: Option<PathBuf>,
    /// Compute device: auto (a hardware GPU if there is one), gpu (wgpu) or cpu (burn flex).
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Stop after this many steps of this invocation (the run can be resumed later).
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Compute the focal weights with the WGSL kernel on the GPU instead of the CPU (same numbers to
    /// 1e-5; the run's random draws do not change).
    #[arg(long)]
    pub focal_gpu: bool,
}

/// The config of `amr --no-gui pretrain` without `--config`: the paper's method and objective on the
/// embedded Bandai demo data, with a model of a quarter of the paper's width and half its depths so
/// that 30 epochs end in minutes on a laptop CPU.
pub fn demo_config() -> PretrainConfig {
    let mut c = PretrainConfig::default();
    c.model =
        c.model.with_joints(21).with_dim(128).with_heads(4).with_mlp(512).with_encoder_depth(4).with_decoder_depth(3);
    c.batch_size = 16;
    c.schedule.epochs = 30.0;
    c.schedule.warmup_epochs = 3.0;
    c.run.checkpoint_every = 50;
    c
}

fn read_config(path: &Path) -> anyhow::Result<PretrainConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_pretrain_config(&text, path)?)
}

const CHECKPOINT: &str = "checkpoint.safetensors";
const METRICS_HEADER: &str = "step,epoch,loss,lr,seconds,sequences_per_second";

/// Runs `pretrain`.
pub fn run(a: &PretrainArgs) -> anyhow::Result<()> {
    let (dir, resumed) = match &a.resume {
        Some(dir) => {
            let path = dir.join(CHECKPOINT);
            (
                dir.clone(),
                Some(
                    Checkpoint::<PretrainConfig>::load(&path)
                        .with_context(|| format!("resuming from {}", dir.display()))?,
                ),
            )
        }
        None => {
            let dir = a.out.clone().unwrap_or_else(|| {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                PathBuf::from(format!("runs/pretrain-{secs}"))
            });
            if dir.join(CHECKPOINT).exists() {
                anyhow::bail!(
                    "{} already holds a run; continue it with --resume {} or choose another --out",
                    dir.display(),
                    dir.display()
                );
            }
            (dir, None)
        }
    };
    let config = match (&resumed, &a.config) {
        (Some(c), _) => c.config.clone(),
        (None, Some(p)) => read_config(p)?,
        (None, None) => demo_config(),
    };
    let ds = crate::cli::load_dataset(&config.run.data).with_context(|| format!("run.data = {}", config.run.data))?;
    let ds = if config.run.split == amr_core::eval::Split::All {
        ds
    } else {
        let split = config.run.split.apply(&ds).map_err(|e| anyhow::anyhow!("{}: run.{e}", config.run.data))?;
        eprintln!(
            "pretraining on the {} training sequences of the split ({} test sequences stay unseen)",
            split.train.len(),
            split.test.len()
        );
        ds.subset(&split.train)
    };
    if ds.layout.joint_count() != config.model.joints {
        anyhow::bail!(
            "model.joints = {} but {} has {} joints; set model.joints = {} in the config",
            config.model.joints,
            config.run.data,
            ds.layout.joint_count(),
            ds.layout.joint_count()
        );
    }
    let (device, device_name) = resolve_device(a.device);
    let mut trainer = match &resumed {
        Some(c) => Trainer::resume(c, ds.len(), &device)?,
        None => Trainer::new(config.clone(), ds.len(), &device)?,
    };
    if a.focal_gpu {
        let kernel = pollster::block_on(amr_core::gpu::FocalKernel::new())
            .context("--focal-gpu: no wgpu adapter for the focal-weight kernel")?;
        eprintln!("focal weights on {} ({:?})", kernel.adapter.name, kernel.adapter.backend);
        trainer = trainer.with_focal_kernel(kernel);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    amr_core::error::write_atomically(&dir.join("config.toml"), pretrain_config_toml(&config).as_bytes())?;
    let metrics_path = dir.join("metrics.csv");
    let mut rows = read_metrics(&metrics_path, trainer.steps())?;
    write_metrics(&metrics_path, &rows)?;

    let total = trainer.total_steps();
    let cap = a.max_steps.or((config.run.max_steps > 0).then_some(config.run.max_steps));
    let end = cap.map_or(total, |c| (trainer.steps() + c).min(total));
    eprintln!(
        "pretraining on {} ({} sequences, {} joints) on {device_name}: steps {}..{end} of {total} ({} per epoch), run folder {}",
        config.run.data,
        ds.len(),
        config.model.joints,
        trainer.steps(),
        trainer.steps_per_epoch(),
        dir.display()
    );
    let bar = indicatif::ProgressBar::new(end as u64).with_position(trainer.steps() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps  {elapsed_precise} elapsed, ETA {eta_precise}  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let budget =
        (config.run.max_minutes > 0.0).then(|| std::time::Duration::from_secs_f64(config.run.max_minutes * 60.0));
    let outcome = train_loop(&mut trainer, &ds, end, budget, &dir, &mut rows, &bar);
    bar.finish_and_clear();
    // The loss curve is drawn whatever happened, from the rows that were written.
    crate::loss_plot::plot_loss(&rows, &dir)?;
    outcome?;
    let last = rows.last().map_or(f32::NAN, |r| r.loss);
    println!(
        "step {}/{total}: loss {last:.4}; wrote {} (config.toml, metrics.csv, {CHECKPOINT}, loss.png, loss.svg)",
        trainer.steps(),
        dir.display()
    );
    Ok(())
}

fn save(trainer: &Trainer, dir: &Path) -> anyhow::Result<()> {
    trainer.checkpoint()?.save(&dir.join(CHECKPOINT))?;
    Ok(())
}

fn train_loop(
    trainer: &mut Trainer,
    ds: &Dataset,
    end: usize,
    budget: Option<std::time::Duration>,
    dir: &Path,
    rows: &mut Vec<StepReport>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let every = trainer.config.run.checkpoint_every;
    let metrics_path = dir.join("metrics.csv");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&metrics_path)
        .with_context(|| format!("opening {}", metrics_path.display()))?;
    let started = std::time::Instant::now();
    while trainer.steps() < end {
        if budget.is_some_and(|b| started.elapsed() >= b) {
            save(trainer, dir)?;
            eprintln!(
                "run.max_minutes reached after {} steps; the checkpoint is written (continue with --resume)",
                trainer.steps()
            );
            break;
        }
        let r = match trainer.step(ds) {
            Ok(r) => r,
            Err(e @ TrainError::NonFinite { .. }) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("stopped; {} holds the last good checkpoint", dir.join(CHECKPOINT).display())));
            }
            Err(e) => return Err(e.into()),
        };
        writeln!(file, "{}", metrics_row(&r)).with_context(|| format!("writing {}", metrics_path.display()))?;
        bar.set_position(r.step as u64);
        bar.set_message(format!("loss {:.4}  lr {:.2e}  {:.1} seq/s", r.loss, r.lr, r.sequences_per_second()));
        rows.push(r);
        if trainer.steps().is_multiple_of(every) || trainer.steps() == end {
            save(trainer, dir)?;
        }
    }
    Ok(())
}

fn metrics_row(r: &StepReport) -> String {
    format!("{},{:.6},{},{:e},{:.4},{:.3}", r.step, r.epoch, r.loss, r.lr, r.seconds, r.sequences_per_second())
}

/// The rows of an existing metrics file up to `upto` steps (a resumed run drops the rows written after
/// its checkpoint, since it repeats those steps).
fn read_metrics(path: &Path, upto: usize) -> anyhow::Result<Vec<StepReport>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || anyhow::anyhow!("{}, line {}: expected `{METRICS_HEADER}`", path.display(), i + 1);
        if f.len() != 6 {
            return Err(bad());
        }
        let num = |k: usize| f[k].parse::<f64>().map_err(|_| bad());
        let step: usize = f[0].parse().map_err(|_| bad())?;
        if step > upto {
            break;
        }
        let seconds = num(4)?;
        let sps = num(5)?;
        rows.push(StepReport {
            step,
            epoch: num(1)?,
            loss: num(2)? as f32,
            lr: num(3)?,
            sequences: (sps * seconds).round() as usize,
            seconds,
        });
    }
    Ok(rows)
}

fn write_metrics(path: &Path, rows: &[StepReport]) -> anyhow::Result<()> {
    let mut s = String::from(METRICS_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&metrics_row(r));
        s.push('\n');
    }
    amr_core::error::write_atomically(path, s.as_bytes())?;
    Ok(())
}
