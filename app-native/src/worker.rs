//! The desktop app's training worker: a thread that owns the run folder and the trainer, takes the
//! panel's commands between steps (so pause and stop take effect within one step) and sends a report
//! after every step.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use amr_core::backend::DeviceChoice;
use amr_core::pretrain::Checkpoint;
use amr_ui::training::{RunStart, TrainCommand, TrainEvent, TrainRunner};

use crate::run_folder::RunFolder;

/// The panel's end of the worker.
pub struct ThreadRunner {
    commands: Sender<TrainCommand>,
    events: Receiver<TrainEvent>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadRunner {
    /// Starts the worker thread; it trains on `device` and wakes the window's `ctx` on every event.
    pub fn spawn(device: DeviceChoice, ctx: Option<egui::Context>) -> std::io::Result<Self> {
        let (commands, command_rx) = channel();
        let (event_tx, events) = channel();
        let thread = std::thread::Builder::new().name("amr-trainer".into()).spawn(move || {
            let out = Outbox { tx: event_tx, ctx };
            // The desktop trains on the chosen device, or on the config's `run.devices`.
            let device = crate::run_folder::DeviceArgs { device, devices: Vec::new() };
            while let Ok(cmd) = command_rx.recv() {
                let run = || {
                    let opened = match cmd {
                        TrainCommand::Start { config, dir } => RunFolder::create(dir.as_ref(), &config, &device),
                        TrainCommand::Resume { dir } => RunFolder::resume(dir.as_ref(), &device),
                        TrainCommand::Pause | TrainCommand::Continue | TrainCommand::Stop | TrainCommand::Save => {
                            return true;
                        }
                    };
                    match opened {
                        Ok(run) => train(run, &command_rx, &out),
                        Err(e) => {
                            out.send(TrainEvent::Failed(crate::error_text::error_text(&e)));
                            true
                        }
                    }
                };
                if !guarded(&out, run) {
                    return;
                }
            }
        })?;
        Ok(Self { commands, events, thread: Some(thread) })
    }
}

impl Drop for ThreadRunner {
    /// Closing the window ends the worker: it writes the checkpoint of a running run after the step in
    /// flight, and the window waits for it.
    fn drop(&mut self) {
        let (dead, _) = channel();
        drop(std::mem::replace(&mut self.commands, dead));
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            log::error!("the training worker panicked");
        }
    }
}

impl TrainRunner for ThreadRunner {
    fn send(&mut self, command: TrainCommand) {
        if self.commands.send(command).is_err() {
            log::error!("the training worker has ended");
        }
    }

    fn poll(&mut self) -> Vec<TrainEvent> {
        self.events.try_iter().collect()
    }
}

/// Runs one command's work; a panic in it becomes a `Failed` event that names it (the worker then waits
/// for the next command, so the panel stays usable). False when the panel has gone.
fn guarded(out: &Outbox, work: impl FnOnce() -> bool) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(go_on) => go_on,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            out.send(TrainEvent::Failed(format!(
                "the training worker stopped on an internal error ({what}); the run folder keeps its last \
                 checkpoint, and the worker takes new commands"
            )));
            true
        }
    }
}

struct Outbox {
    tx: Sender<TrainEvent>,
    ctx: Option<egui::Context>,
}

impl Outbox {
    fn send(&self, e: TrainEvent) {
        let _ = self.tx.send(e);
        if let Some(ctx) = &self.ctx {
            ctx.request_repaint();
        }
    }

    /// Writes the checkpoint and tells the panel (the model only travels to the UI).
    fn save(&self, run: &RunFolder) -> bool {
        match run.save() {
            Ok(c) => {
                let path = run.dir.join(crate::run_folder::CHECKPOINT).display().to_string();
                let checkpoint = Box::new(Checkpoint { optimizer: Default::default(), ..c });
                self.send(TrainEvent::Saved { path, checkpoint });
                true
            }
            Err(e) => {
                self.send(TrainEvent::Failed(crate::error_text::error_text(&e)));
                false
            }
        }
    }

    fn end(&self, run: &RunFolder, reason: &str) {
        if let Err(e) = run.plot() {
            log::error!("drawing the loss curve: {}", crate::error_text::error_text(&e));
        }
        self.send(TrainEvent::Ended { steps: run.trainer.steps(), reason: reason.into() });
    }
}

/// Trains the open run until it ends, is stopped or fails; false when the panel has gone.
fn train(mut run: RunFolder, commands: &Receiver<TrainCommand>, out: &Outbox) -> bool {
    let config = run.trainer.config.clone();
    let total = run.trainer.total_steps();
    let end = if config.run.max_steps > 0 { (run.trainer.steps() + config.run.max_steps).min(total) } else { total };
    out.send(TrainEvent::Started(Box::new(RunStart {
        dir: run.dir.display().to_string(),
        device: run.device_name.clone(),
        total_steps: total,
        history: run.rows.clone(),
        config: config.clone(),
    })));
    let mut paused = false;
    loop {
        loop {
            let cmd =
                if paused { commands.recv().map_err(|_| TryRecvError::Disconnected) } else { commands.try_recv() };
            match cmd {
                Ok(TrainCommand::Pause) => {
                    paused = true;
                    out.send(TrainEvent::Paused);
                }
                Ok(TrainCommand::Continue) => {
                    paused = false;
                    out.send(TrainEvent::Continued);
                }
                Ok(TrainCommand::Save) => {
                    out.save(&run);
                }
                Ok(TrainCommand::Stop) => {
                    if out.save(&run) {
                        out.end(&run, "stopped; continue it with Resume folder or `amr --no-gui pretrain --resume`");
                    }
                    return true;
                }
                Ok(TrainCommand::Start { .. } | TrainCommand::Resume { .. }) => {
                    out.send(TrainEvent::Failed("a run is going already; stop it first".into()));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    out.save(&run);
                    return false;
                }
            }
        }
        if run.trainer.steps() >= end {
            if out.save(&run) {
                out.end(&run, if end == total { "the schedule is done" } else { "max steps reached" });
            }
            return true;
        }
        let report = match run.trainer.step(&run.dataset) {
            Ok(r) => r,
            Err(e) => {
                out.send(TrainEvent::Failed(format!("{e}; {} holds the last checkpoint", run.dir.display())));
                return true;
            }
        };
        if let Err(e) = run.record(report.clone()) {
            out.send(TrainEvent::Failed(crate::error_text::error_text(&e)));
            return true;
        }
        out.send(TrainEvent::Step(report));
        if run.trainer.steps().is_multiple_of(config.run.checkpoint_every) && !out.save(&run) {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amr_core::pretrain::PretrainConfig;

    fn tiny() -> PretrainConfig {
        let mut c = PretrainConfig::demo();
        c.model = c.model.with_dim(16).with_heads(2).with_mlp(32).with_encoder_depth(1).with_decoder_depth(1);
        c.batch_size = 2;
        c.run.checkpoint_every = 3;
        c
    }

    fn wait(r: &mut ThreadRunner, until: impl Fn(&TrainEvent) -> bool) -> Vec<TrainEvent> {
        let mut seen = Vec::new();
        for _ in 0..600 {
            let batch = r.poll();
            let done = batch.iter().any(&until);
            seen.extend(batch);
            if done {
                return seen;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no such event within 60 s; saw {seen:?}");
    }

    #[test]
    fn a_panic_in_the_work_is_reported_and_the_worker_goes_on() {
        let (tx, rx) = channel();
        let out = Outbox { tx, ctx: None };
        assert!(guarded(&out, || panic!("index out of bounds: boom")));
        match rx.try_recv() {
            Ok(TrainEvent::Failed(m)) => assert!(m.contains("boom") && m.contains("new commands"), "{m}"),
            other => panic!("expected a failure event, got {other:?}"),
        }
        assert!(!guarded(&out, || false), "an ended panel still ends the worker");
        assert!(rx.try_recv().is_err(), "no event without a panic");
    }

    #[test]
    fn the_worker_pauses_stops_within_a_step_and_resumes_the_same_folder() {
        let dir = std::env::temp_dir().join(format!("amr-worker-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut r = ThreadRunner::spawn(DeviceChoice::Cpu, None).unwrap();
        r.send(TrainCommand::Start { config: Box::new(tiny()), dir: dir.display().to_string() });
        let seen = wait(&mut r, |e| matches!(e, TrainEvent::Step(s) if s.step >= 3));
        assert!(matches!(seen[0], TrainEvent::Started(_)), "{seen:?}");
        assert!(seen.iter().any(|e| matches!(e, TrainEvent::Saved { .. })), "a checkpoint every 3 steps");
        r.send(TrainCommand::Pause);
        let seen = wait(&mut r, |e| matches!(e, TrainEvent::Paused));
        let paused_at = seen.iter().filter_map(|e| if let TrainEvent::Step(s) = e { Some(s.step) } else { None }).max();
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(r.poll().is_empty(), "no steps while paused");
        r.send(TrainCommand::Continue);
        let mut seen = wait(&mut r, |e| matches!(e, TrainEvent::Step(_)));
        // Commands are read before every step: a stop sent while running ends the run after the step
        // in flight, and one sent while paused ends it with no further step.
        r.send(TrainCommand::Pause);
        seen.extend(wait(&mut r, |e| matches!(e, TrainEvent::Paused)));
        let held = seen.iter().filter_map(|e| if let TrainEvent::Step(s) = e { Some(s.step) } else { None }).max();
        r.send(TrainCommand::Stop);
        let seen = wait(&mut r, |e| matches!(e, TrainEvent::Ended { .. }));
        assert!(!seen.iter().any(|e| matches!(e, TrainEvent::Step(_))), "a step after stop: {seen:?}");
        let Some(TrainEvent::Ended { steps, .. }) = seen.last() else { panic!("{seen:?}") };
        assert_eq!(Some(*steps), held);
        assert!(*steps > paused_at.unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(r.poll().is_empty(), "nothing after the end");
        // The folder is the headless command's: its checkpoint resumes at the same step.
        let ckpt = Checkpoint::<PretrainConfig>::load(&dir.join("checkpoint.safetensors")).unwrap();
        assert_eq!(ckpt.state.as_ref().unwrap().steps, *steps);
        let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        assert_eq!(metrics.lines().count(), steps + 1);
        r.send(TrainCommand::Resume { dir: dir.display().to_string() });
        let seen = wait(&mut r, |e| matches!(e, TrainEvent::Step(_)));
        let Some(TrainEvent::Started(start)) = seen.first() else { panic!("{seen:?}") };
        let history = &start.history;
        assert_eq!(history.len(), *steps);
        let first = seen.iter().find_map(|e| if let TrainEvent::Step(s) = e { Some(s.step) } else { None });
        assert_eq!(first, Some(steps + 1));
        drop(r);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_stop_button_stops_the_worker_and_the_headless_command_resumes_the_run() {
        use amr_ui::training::TrainState;
        use amr_ui::{AmrApp, DrawReport, ReportSink, Settings, Tab};
        use egui_kittest::kittest::Queryable as _;
        use std::sync::{Arc, Mutex};

        let dir = std::env::temp_dir().join(format!("amr-stop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sink: ReportSink = Arc::new(Mutex::new(None));
        let settings =
            Settings { tab: Tab::Train, run_config: tiny(), run_dir: dir.display().to_string(), ..Settings::default() };
        let runner = ThreadRunner::spawn(DeviceChoice::Cpu, None).unwrap();
        let app = AmrApp::new(amr_core::demo::demo_dataset().unwrap(), "demo", sink.clone())
            .with_settings(settings)
            .with_runner(Box::new(runner));
        let mut h = egui_kittest::Harness::builder()
            .with_size([1280.0, 800.0])
            .with_accessibility_check(false)
            .build_ui_state(|ui, app: &mut AmrApp| app.ui_root(ui), app);
        let last = || -> DrawReport { sink.lock().unwrap().clone().unwrap() };
        let until = |h: &mut egui_kittest::Harness<'_, AmrApp>, what: &str, ok: &dyn Fn(&DrawReport) -> bool| {
            for _ in 0..1200 {
                h.step();
                if ok(&last()) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            panic!("{what} not within 60 s: {:?}", last());
        };
        h.run_steps(2);
        h.get_by_label("Start").click();
        until(&mut h, "two steps", &|r| r.loss_points >= 2);
        h.get_by_label("Stop").click();
        until(&mut h, "the end of the run", &|r| r.train_state == TrainState::Idle);
        let steps = last().loss_points;
        std::thread::sleep(std::time::Duration::from_millis(600));
        h.run_steps(3);
        assert_eq!(last().loss_points, steps, "the worker took no step after stop");
        assert!(last().message.is_empty() || !last().message.contains("failed"), "{:?}", last());
        // The headless command continues the run the panel started.
        let args = crate::pretrain_cmd::PretrainArgs {
            config: None,
            out: None,
            resume: Some(dir.clone()),
            device: DeviceChoice::Cpu,
            devices: Vec::new(),
            max_steps: Some(2),
            focal_gpu: false,
        };
        crate::pretrain_cmd::run(&args).unwrap();
        let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        assert_eq!(metrics.lines().count(), steps + 2 + 1, "{metrics}");
        let ckpt = Checkpoint::<PretrainConfig>::load(&dir.join("checkpoint.safetensors")).unwrap();
        assert_eq!(ckpt.state.unwrap().steps, steps + 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
