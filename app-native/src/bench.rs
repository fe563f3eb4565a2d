//! `amr --no-gui bench`: pretraining steps of the paper configuration (T 120, V 25, l 4, encoder
//! 8 x 256, decoder depth 5, 90 % motion-aware masking) with the AMR decoder (r = 6) and with the
//! MAMP decoder, in one run on one device, on synthetic NTU-25 sequences (speed does not depend on
//! the motion). Prints per mode the median ms/step, sequences/s, the analytic forward GFLOPs per
//! sequence and the peak memory, then the AMR/MAMP speed ratio.

use amr_core::backend::{DeviceChoice, resolve_device};
use amr_core::data::Dataset;
use amr_core::data::synthetic_dataset;
use amr_core::masking::visible_count;
use amr_core::model::{DecoderKind, pretrain_macs};
use amr_core::pretrain::{PROFILE_STAGES, PretrainConfig, Trainer};
use amr_core::skeleton::ntu25;
use clap::Args;

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Compute device.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Sequences per step (2 persons each).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Untimed steps first (allocation, kernel compilation, autotuning).
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Timed steps per mode.
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Time each stage of a step (batch making, upload, patch embedding, encoder attention and MLP,
    /// decoder, loss, backward, optimiser) with the device synchronised between them, instead of
    /// whole steps.
    #[arg(long)]
    pub profile: bool,
    /// Decoders to time, comma-separated (`amr`, `mamp`).
    #[arg(long, value_delimiter = ',', default_value = "amr,mamp")]
    pub decoders: Vec<BenchDecoder>,
    /// Then train the AMR decoder this long (minutes) on a larger synthetic set and report its
    /// sustained throughput and loss ratio.
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Synthetic sequences of the sustained run (150 frames, 2 persons each).
    #[arg(long, default_value_t = 4096)]
    pub sequences: usize,
    /// Write the figures as JSON here too.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

/// A decoder `bench` can time.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchDecoder {
    /// The AMR decoder (r = 6).
    Amr,
    /// The MAMP decoder.
    Mamp,
}

/// One mode's figures.
#[derive(Debug, serde::Serialize)]
struct ModeResult {
    mode: String,
    ms_per_step_median: f64,
    ms_per_step_all: Vec<f64>,
    sequences_per_second: f64,
    forward_gflops_per_sequence: f64,
    peak_memory_mib: Option<f64>,
    memory_kind: &'static str,
}

/// Resets the kernel's peak-RSS counter of this process (Linux); true when it worked.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's peak resident memory in MiB since the last reset (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Runs `bench`.
pub fn run(a: &BenchArgs) -> anyhow::Result<()> {
    if a.batch == 0 || a.steps == 0 || a.decoders.is_empty() {
        anyhow::bail!("--batch and --steps must be at least 1 and --decoders must name one");
    }
    if let Some(m) = a.minutes
        && !(m.is_finite() && m > 0.0 && m <= 24.0 * 60.0)
    {
        anyhow::bail!("--minutes {m}: expected a number of minutes above 0 and at most a day");
    }
    if a.sequences < a.batch || a.sequences > 1 << 20 {
        anyhow::bail!("--sequences {}: expected at least --batch ({}) and at most 2^20", a.sequences, a.batch);
    }
    let (device, device_name) = resolve_device(a.device);
    let layout = ntu25();
    let ds = synthetic_dataset(&layout, a.batch, 150, 2, 7);
    println!(
        "bench: paper configuration (T 120, V 25, l 4, encoder 8 x 256, decoder depth 5, 90 % masking), batch {} x 2 persons, {} warm-up + {} timed steps per mode, on {device_name}",
        a.batch, a.warmup, a.steps
    );
    let mut results = Vec::new();
    for &which in &a.decoders {
        let (name, decoder) = match which {
            BenchDecoder::Amr => ("AMR (r = 6)", DecoderKind::Amr),
            BenchDecoder::Mamp => ("MAMP", DecoderKind::Mamp),
        };
        let mut cfg = PretrainConfig::default();
        cfg.model = cfg.model.with_decoder(decoder);
        cfg.batch_size = a.batch;
        let visible = visible_count(cfg.model.tokens(), cfg.batch.mask_ratio);
        let (enc, dec) = pretrain_macs(&cfg.model, visible);
        let gflops = 2.0 * (enc + dec) * 2.0 / 1e9; // 2 FLOPs per MAC, 2 persons per sequence
        let cpu_rss = reset_peak_rss();
        let mut trainer = Trainer::new(cfg, ds.len(), &device)?;
        if a.profile {
            profile(name, &mut trainer, &ds, a)?;
            continue;
        }
        let mut times = Vec::new();
        let mut gpu_peak = 0u64;
        for i in 0..a.warmup + a.steps {
            let r = trainer.step(&ds)?;
            if let Some(u) = trainer.device().memory_pool_usage() {
                gpu_peak = gpu_peak.max(u.bytes_reserved);
            }
            if i >= a.warmup {
                times.push(r.seconds * 1e3);
            }
        }
        let ms = median(&times);
        let (peak, kind) = if gpu_peak > 0 {
            (Some(gpu_peak as f64 / 1048576.0), "device memory reserved by burn's allocator")
        } else if cpu_rss {
            (peak_rss_mib(), "process peak resident memory")
        } else {
            (None, "not measured on this system")
        };
        drop(trainer);
        let res = ModeResult {
            mode: name.into(),
            ms_per_step_median: ms,
            ms_per_step_all: times,
            sequences_per_second: a.batch as f64 / (ms / 1e3),
            forward_gflops_per_sequence: gflops,
            peak_memory_mib: peak,
            memory_kind: kind,
        };
        println!(
            "{:<12} {:>10.1} ms/step (median)  {:>8.2} seq/s  {:>6.2} GFLOPs/seq (forward, analytic)  peak {} ({})",
            res.mode,
            res.ms_per_step_median,
            res.sequences_per_second,
            res.forward_gflops_per_sequence,
            res.peak_memory_mib.map_or_else(|| "-".into(), |m| format!("{m:.0} MiB")),
            res.memory_kind
        );
        results.push(res);
    }
    let (mut speed, mut flops) = (None, None);
    if let [amr, mamp] = &results[..]
        && amr.mode != mamp.mode
    {
        let (s, f) = (
            mamp.ms_per_step_median / amr.ms_per_step_median,
            mamp.forward_gflops_per_sequence / amr.forward_gflops_per_sequence,
        );
        println!("AMR / MAMP: {s:.2}x faster per step (forward FLOPs ratio {f:.2}x; the paper reports 8.1x on a GPU)");
        (speed, flops) = (Some(s), Some(f));
    }
    let sustained = match a.minutes {
        Some(minutes) => Some(sustained_run(a, minutes, &device)?),
        None => None,
    };
    if let Some(p) = &a.json {
        let doc = serde_json::json!({ "device": device_name, "batch": a.batch, "modes": results, "speed_ratio": speed, "flops_ratio": flops, "sustained": sustained });
        amr_core::io::write_atomically(p, serde_json::to_string_pretty(&doc)?.as_bytes())?;
    }
    Ok(())
}

/// The figures of a sustained run.
#[derive(Debug, serde::Serialize)]
struct Sustained {
    minutes: f64,
    sequences: usize,
    steps: usize,
    epochs: f64,
    sequences_per_second: f64,
    first_loss_ratio: f32,
    last_loss_ratio: f32,
}

/// Trains the AMR decoder for `minutes` on `a.sequences` synthetic sequences; prints the throughput
/// every half minute and at the end (the first 5 steps, allocation and kernel compilation, are not
/// counted in the throughput).
fn sustained_run(a: &BenchArgs, minutes: f64, device: &burn::prelude::Device) -> anyhow::Result<Sustained> {
    let ds = synthetic_dataset(&ntu25(), a.sequences, 150, 2, 11);
    let cfg = PretrainConfig { batch_size: a.batch, ..Default::default() };
    let mut trainer = Trainer::new(cfg, ds.len(), device)?;
    println!(
        "sustained run: AMR decoder, {} synthetic sequences, batch {} x 2 persons, {minutes} minutes",
        ds.len(),
        a.batch
    );
    let budget = std::time::Duration::from_secs_f64(minutes * 60.0);
    let start = std::time::Instant::now();
    let (mut counted_seconds, mut counted_sequences, mut last_print) = (0.0, 0usize, 0.0);
    let (mut ratios, mut epoch) = (Vec::new(), 0.0);
    while start.elapsed() < budget && trainer.steps() < trainer.total_steps() {
        let r = trainer.step(&ds)?;
        ratios.push(r.ratio());
        epoch = r.epoch;
        if r.step > 5 {
            counted_seconds += r.seconds;
            counted_sequences += r.sequences;
        }
        let t = start.elapsed().as_secs_f64();
        if t - last_print >= 30.0 {
            last_print = t;
            println!(
                "  {t:>6.0} s  step {:>6}  epoch {:>6.2}  loss / trivial {:.3}  {:.1} seq/s",
                r.step,
                r.epoch,
                r.ratio(),
                counted_sequences as f64 / counted_seconds.max(1e-9)
            );
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    let k = ratios.len().min(20);
    let res = Sustained {
        minutes: start.elapsed().as_secs_f64() / 60.0,
        sequences: ds.len(),
        steps: ratios.len(),
        epochs: epoch,
        sequences_per_second: counted_sequences as f64 / counted_seconds.max(1e-9),
        first_loss_ratio: mean(&ratios[..k]),
        last_loss_ratio: mean(&ratios[ratios.len() - k..]),
    };
    println!(
        "sustained: {} steps ({:.2} epochs) in {:.1} minutes, {:.1} seq/s after the first 5 steps; loss / trivial {:.3} over the first 20 steps, {:.3} over the last 20",
        res.steps, res.epochs, res.minutes, res.sequences_per_second, res.first_loss_ratio, res.last_loss_ratio
    );
    Ok(res)
}

/// `--profile`: warm-up steps, then `a.steps` profiled steps; prints each stage's median time and
/// its share of the median step.
fn profile(name: &str, trainer: &mut Trainer, ds: &Dataset, a: &BenchArgs) -> anyhow::Result<()> {
    for _ in 0..a.warmup {
        trainer.step(ds)?;
    }
    let mut runs = Vec::new();
    for _ in 0..a.steps {
        runs.push(trainer.profile_step(ds)?);
    }
    let total = median(&runs.iter().map(|p| p.total() * 1e3).collect::<Vec<_>>());
    println!("{name}: profile of {} steps (device synchronised after each stage), median {total:.1} ms/step", a.steps);
    for (i, stage) in PROFILE_STAGES.iter().enumerate() {
        let ms = median(&runs.iter().map(|p| p.stages[i].1 * 1e3).collect::<Vec<_>>());
        println!("  {stage:<20} {ms:>10.1} ms  {:>5.1} %", 100.0 * ms / total.max(1e-9));
    }
    Ok(())
}
