//! A pretraining run folder, the same for `amr --no-gui pretrain` and the desktop app's training
//! panel, so a run started in one continues in the other.
//!
//! The folder holds `config.toml` (the resolved config), `metrics.csv` (one row per step),
//! `checkpoint.safetensors` (model, optimiser, generator, data order, step; rewritten atomically, with
//! a checksum), `checkpoint.prev.safetensors` (the one before it, kept for a resume when the latest is
//! damaged) and `loss.png` / `loss.svg`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use amr_core::backend::{DeviceChoice, parse_devices, resolve_device};
use amr_core::data::Dataset;
use amr_core::pretrain::{Checkpoint, PretrainConfig, StepReport, Trainer, pretrain_config_toml};
use anyhow::Context;

/// The checkpoint's file name in a run folder.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The checkpoint before the latest one.
pub const PREVIOUS_CHECKPOINT: &str = "checkpoint.prev.safetensors";
const METRICS_HEADER: &str = "step,epoch,loss,trivial_loss,loss_ratio,lr,seconds,sequences_per_second";

/// An open run: its folder, the data it trains on and the trainer, ready to step.
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
    /// The sequences the run trains on (the split's training part when the config has a split).
    pub dataset: Dataset,
    /// The trainer, at the step of the checkpoint for a resumed run.
    pub trainer: Trainer,
    /// What the device is, in words.
    pub device_name: String,
    /// Every step's report so far (resumed runs keep the rows up to their checkpoint).
    pub rows: Vec<StepReport>,
    metrics: std::fs::File,
}

/// Where a run computes: `--device`, or a `--devices` list (data parallelism, the first the main
/// device) that overrides both it and the config's `run.devices`.
#[derive(Debug, Clone, Default)]
pub struct DeviceArgs {
    /// `--device`.
    pub device: DeviceChoice,
    /// `--devices`.
    pub devices: Vec<String>,
}

impl RunFolder {
    /// Starts a new run of `config` in `dir`; fails if `dir` holds a run already.
    pub fn create(dir: &Path, config: &PretrainConfig, device: &DeviceArgs) -> anyhow::Result<Self> {
        if Self::holds_run(dir) {
            anyhow::bail!("{} already holds a run; resume it or choose another folder", dir.display());
        }
        Self::open(dir, config, None, device)
    }

    /// Whether `dir` holds a run (a checkpoint, or the one before it).
    pub fn holds_run(dir: &Path) -> bool {
        dir.join(CHECKPOINT).exists() || dir.join(PREVIOUS_CHECKPOINT).exists()
    }

    /// Continues the run saved in `dir` from its checkpoint, or from the one before it when the latest
    /// is missing or damaged (said on stderr; the steps after it are repeated).
    pub fn resume(dir: &Path, device: &DeviceArgs) -> anyhow::Result<Self> {
        amr_core::io::remove_temporaries(dir);
        let latest = Checkpoint::<PretrainConfig>::load(&dir.join(CHECKPOINT));
        let ckpt = match latest {
            Ok(c) => c,
            Err(e) => match Checkpoint::<PretrainConfig>::load(&dir.join(PREVIOUS_CHECKPOINT)) {
                Ok(prev) => {
                    eprintln!(
                        "{e}\nresuming from the previous checkpoint {} (step {}) instead",
                        dir.join(PREVIOUS_CHECKPOINT).display(),
                        prev.state.as_ref().map_or(0, |s| s.steps)
                    );
                    prev
                }
                Err(_) => return Err(anyhow::Error::new(e).context(format!("resuming the run in {}", dir.display()))),
            },
        };
        Self::open(dir, &ckpt.config, Some(&ckpt), device)
    }

    fn open(
        dir: &Path,
        config: &PretrainConfig,
        ckpt: Option<&Checkpoint>,
        device: &DeviceArgs,
    ) -> anyhow::Result<Self> {
        config.validate().map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        let ds =
            crate::inputs::load_dataset(&config.run.data).with_context(|| format!("run.data = {}", config.run.data))?;
        let dataset = if config.run.split == amr_core::data::Split::All {
            ds
        } else {
            let split = config.run.split.apply(&ds).map_err(|e| anyhow::anyhow!("{}: run.{e}", config.run.data))?;
            ds.subset(&split.train)
        };
        if dataset.layout.joint_count() != config.model.joints {
            anyhow::bail!(
                "model.joints = {} but {} has {} joints; set model.joints = {} in the config",
                config.model.joints,
                config.run.data,
                dataset.layout.joint_count(),
                dataset.layout.joint_count()
            );
        }
        // The devices: `--devices`, else the config's `run.devices`, else the one `--device` chooses.
        let (list, field) = if device.devices.is_empty() {
            (&config.run.devices, "run.devices")
        } else {
            (&device.devices, "--devices")
        };
        let mut devices = parse_devices(list, field)?;
        if devices.is_empty() {
            devices.push(resolve_device(device.device));
        }
        let device_name = devices.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(" + ");
        let mut trainer = match ckpt {
            Some(c) => Trainer::resume(c, dataset.len(), &devices[0].0)?,
            None => Trainer::new(config.clone(), dataset.len(), &devices[0].0)?,
        };
        trainer.spread_over(&devices[1..].iter().map(|(d, _)| d.clone()).collect::<Vec<_>>());
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        amr_core::io::write_atomically(&dir.join("config.toml"), pretrain_config_toml(config).as_bytes())?;
        let metrics_path = dir.join("metrics.csv");
        let rows = read_metrics(&metrics_path, trainer.steps())?;
        write_metrics(&metrics_path, &rows)?;
        let metrics = std::fs::OpenOptions::new()
            .append(true)
            .open(&metrics_path)
            .with_context(|| format!("opening {}", metrics_path.display()))?;
        Ok(Self { dir: dir.to_path_buf(), dataset, trainer, device_name, rows, metrics })
    }

    /// Appends a step's row to `metrics.csv` and to `rows`.
    pub fn record(&mut self, r: StepReport) -> anyhow::Result<()> {
        writeln!(self.metrics, "{}", metrics_row(&r))
            .with_context(|| format!("writing {}", self.dir.join("metrics.csv").display()))?;
        self.rows.push(r);
        Ok(())
    }

    /// Writes the checkpoint (atomically, the previous one kept as [`PREVIOUS_CHECKPOINT`]) and
    /// returns it.
    pub fn save(&self) -> anyhow::Result<Checkpoint> {
        let ckpt = self.trainer.checkpoint()?;
        let (latest, previous) = (self.dir.join(CHECKPOINT), self.dir.join(PREVIOUS_CHECKPOINT));
        if latest.exists() {
            std::fs::rename(&latest, &previous)
                .with_context(|| format!("keeping {} as {}", latest.display(), previous.display()))?;
        }
        ckpt.save(&latest)?;
        Ok(ckpt)
    }

    /// Draws `loss.png` and `loss.svg` from the rows written.
    pub fn plot(&self) -> anyhow::Result<()> {
        crate::loss_plot::plot_loss(&self.rows, &self.dir)
    }
}

fn metrics_row(r: &StepReport) -> String {
    format!(
        "{},{:.6},{},{},{:.6},{:e},{:.4},{:.3}",
        r.step,
        r.epoch,
        r.loss,
        r.trivial,
        r.ratio(),
        r.lr,
        r.seconds,
        r.sequences_per_second()
    )
}

/// The rows of an existing metrics file up to `upto` steps (a resumed run drops the rows written after
/// its checkpoint, since it repeats those steps). A last line cut short by a kill (no newline at its
/// end) is dropped too; a malformed line anywhere else is an error naming it.
fn read_metrics(path: &Path, upto: usize) -> anyhow::Result<Vec<StepReport>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    let text = match text.rfind('\n') {
        Some(end) if end + 1 < text.len() => {
            eprintln!("{}: dropping its last line, cut short: `{}`", path.display(), &text[end + 1..]);
            &text[..=end]
        }
        Some(_) => text.as_str(),
        None => "",
    };
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || anyhow::anyhow!("{}, line {}: expected `{METRICS_HEADER}`", path.display(), i + 1);
        // Runs written before the trivial predictor's columns have 6 fields; their trivial loss is unknown.
        let old = match f.len() {
            8 => false,
            6 => true,
            _ => return Err(bad()),
        };
        let num = |k: usize| f[k].parse::<f64>().map_err(|_| bad());
        let step: usize = f[0].parse().map_err(|_| bad())?;
        if step > upto {
            break;
        }
        let (trivial, lr, seconds, sps) =
            if old { (f64::NAN, num(3)?, num(4)?, num(5)?) } else { (num(3)?, num(5)?, num(6)?, num(7)?) };
        rows.push(StepReport {
            step,
            epoch: num(1)?,
            loss: num(2)? as f32,
            trivial: trivial as f32,
            lr,
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
    amr_core::io::write_atomically(path, s.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_back_in_both_layouts() {
        let dir = std::env::temp_dir().join(format!("amr-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let row = |step| StepReport {
            step,
            epoch: step as f64 / 4.0,
            loss: 0.5,
            trivial: 0.8,
            lr: 1e-3,
            sequences: 16,
            seconds: 2.0,
        };
        write_metrics(&path, &[row(1), row(2), row(3)]).unwrap();
        let back = read_metrics(&path, 2).unwrap();
        assert_eq!(back, vec![row(1), row(2)], "rows after the checkpoint's step are dropped");
        // A file of a run from before the trivial loss: six columns, trivial unknown.
        std::fs::write(&path, "step,epoch,loss,lr,seconds,sequences_per_second\n1,0.25,0.5,1e-3,2.0,8.0\n").unwrap();
        let old = read_metrics(&path, 5).unwrap();
        assert_eq!((old[0].loss, old[0].lr, old[0].sequences), (0.5, 1e-3, 16));
        assert!(old[0].trivial.is_nan());
        std::fs::write(&path, "step,epoch,loss\n1,0.25,0.5\n").unwrap();
        assert!(read_metrics(&path, 5).unwrap_err().to_string().contains("line 2"));
        // A torn last line (a kill during the append) is dropped; the rows before it are kept.
        write_metrics(&path, &[row(1), row(2)]).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("3,0.75,0.4");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_metrics(&path, 5).unwrap(), vec![row(1), row(2)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
