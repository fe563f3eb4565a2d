//! `amr --no-gui pretrain`: headless pretraining into a run folder.
//!
//! The folder holds `config.toml` (the resolved config), `metrics.csv` (one row per step),
//! `checkpoint.safetensors` (model, optimiser, generator, data order, step; rewritten atomically every
//! `run.checkpoint_every` steps and at the end), and `loss.png` / `loss.svg`.

use std::path::{Path, PathBuf};

use amr_core::backend::DeviceChoice;
use amr_core::pretrain::{PretrainConfig, TrainError, parse_pretrain_config};

use crate::run_folder::{CHECKPOINT, DeviceArgs, RunFolder};
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
    /// Spread every step over these devices (data parallelism), the first the main one:
    /// `cpu,cpu`, `gpu:0,gpu:1`; overrides --device and the config's `run.devices`.
    #[arg(long, value_delimiter = ',')]
    pub devices: Vec<String>,
    /// Stop after this many steps of this invocation (the run can be resumed later).
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Compute the focal weights with the WGSL kernel on the GPU instead of the CPU (same numbers to
    /// 1e-5; the run's random draws do not change).
    #[arg(long)]
    pub focal_gpu: bool,
}

fn read_config(path: &Path) -> anyhow::Result<PretrainConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_pretrain_config(&text, path)?)
}

/// Runs `pretrain`.
pub fn run(a: &PretrainArgs) -> anyhow::Result<()> {
    let devices = DeviceArgs { device: a.device, devices: a.devices.clone() };
    let mut run = match &a.resume {
        Some(dir) => RunFolder::resume(dir, &devices)?,
        None => {
            let dir = a.out.clone().unwrap_or_else(|| {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                PathBuf::from(format!("runs/pretrain-{secs}"))
            });
            let config = match &a.config {
                Some(p) => read_config(p)?,
                None => PretrainConfig::demo(),
            };
            if RunFolder::holds_run(&dir) {
                anyhow::bail!(
                    "{} already holds a run; continue it with --resume {} or choose another --out",
                    dir.display(),
                    dir.display()
                );
            }
            RunFolder::create(&dir, &config, &devices)?
        }
    };
    let config = run.trainer.config.clone();
    if config.run.split != amr_core::data::Split::All {
        eprintln!(
            "pretraining on the {} training sequences of the split (the test sequences stay unseen)",
            run.dataset.len()
        );
    }
    if a.focal_gpu {
        let kernel = pollster::block_on(amr_core::gpu::FocalKernel::new())
            .context("--focal-gpu: no wgpu adapter for the focal-weight kernel")?;
        eprintln!("focal weights on {} ({:?})", kernel.adapter.name, kernel.adapter.backend);
        run.trainer.set_focal_kernel(kernel);
    }
    let total = run.trainer.total_steps();
    let cap = a.max_steps.or((config.run.max_steps > 0).then_some(config.run.max_steps));
    let end = cap.map_or(total, |c| (run.trainer.steps() + c).min(total));
    eprintln!(
        "pretraining on {} ({} sequences, {} joints) on {}: steps {}..{end} of {total} ({} per epoch), run folder {}",
        config.run.data,
        run.dataset.len(),
        config.model.joints,
        run.device_name,
        run.trainer.steps(),
        run.trainer.steps_per_epoch(),
        run.dir.display()
    );
    let bar = indicatif::ProgressBar::new(end as u64).with_position(run.trainer.steps() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps  {elapsed_precise} elapsed, ETA {eta_precise}  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let budget =
        (config.run.max_minutes > 0.0).then(|| std::time::Duration::from_secs_f64(config.run.max_minutes * 60.0));
    let outcome = train_loop(&mut run, end, budget, &bar);
    bar.finish_and_clear();
    // The loss curve is drawn whatever happened, from the rows that were written; a training error
    // comes first, a failed drawing after it never replaces it.
    let plotted = run.plot();
    if let Err(e) = outcome {
        if let Err(p) = plotted {
            eprintln!("warning: the loss curve could not be drawn either: {p:#}");
        }
        return Err(e);
    }
    plotted?;
    let last = run.rows.last().map_or(f32::NAN, |r| r.loss);
    println!(
        "step {}/{total}: loss {last:.4}; wrote {} (config.toml, metrics.csv, {CHECKPOINT}, loss.png, loss.svg)",
        run.trainer.steps(),
        run.dir.display()
    );
    Ok(())
}

fn train_loop(
    run: &mut RunFolder,
    end: usize,
    budget: Option<std::time::Duration>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let every = run.trainer.config.run.checkpoint_every;
    let started = std::time::Instant::now();
    while run.trainer.steps() < end {
        if budget.is_some_and(|b| started.elapsed() >= b) {
            run.save()?;
            eprintln!(
                "run.max_minutes reached after {} steps; the checkpoint is written (continue with --resume)",
                run.trainer.steps()
            );
            break;
        }
        let r = match run.trainer.step(&run.dataset) {
            Ok(r) => r,
            Err(e @ TrainError::NonFinite { .. }) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "stopped; {} holds the last good checkpoint",
                    run.dir.join(CHECKPOINT).display()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        bar.set_position(r.step as u64);
        bar.set_message(format!(
            "loss {:.4}  trivial {:.4}  ratio {:.3}  lr {:.2e}  {:.1} seq/s",
            r.loss,
            r.trivial,
            r.ratio(),
            r.lr,
            r.sequences_per_second()
        ));
        run.record(r)?;
        if run.trainer.steps().is_multiple_of(every) || run.trainer.steps() == end {
            run.save()?;
        }
    }
    Ok(())
}

/// Arguments of `export-model`.
#[derive(Args, Debug)]
pub struct ExportModelArgs {
    /// A pretraining checkpoint (a run folder's `checkpoint.safetensors`, or the folder).
    pub checkpoint: PathBuf,
    /// The model-only file to write (.safetensors).
    pub out: PathBuf,
}

/// Runs `export-model`: the checkpoint's config and model, without the optimiser moments and the
/// trainer state (a third of the size; what the reconstruction view and `--init` need).
pub fn export_model(a: &ExportModelArgs) -> anyhow::Result<()> {
    let file = if a.checkpoint.is_dir() { a.checkpoint.join(CHECKPOINT) } else { a.checkpoint.clone() };
    let mut ckpt = amr_core::pretrain::Checkpoint::<PretrainConfig>::load(&file)?;
    let steps = ckpt.state.as_ref().map_or(0, |s| s.steps);
    ckpt.optimizer.clear();
    ckpt.state = None;
    ckpt.save(&a.out)?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or_default();
    println!(
        "wrote {} (the model of {} after {steps} steps, {:.1} MB)",
        a.out.display(),
        file.display(),
        size as f64 / 1e6
    );
    Ok(())
}
