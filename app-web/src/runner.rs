//! The browser's trainer: an async task on the page's event loop that takes one step at a time and
//! yields to the browser between steps, so the App keeps drawing. It trains on the page's compute
//! device (WebGPU or the CPU backend); losses and checkpoints are read back with `step_async` and
//! `checkpoint_async`, so nothing blocks the page.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use amr_core::data::Dataset;
use amr_core::pretrain::{Checkpoint, Trainer};
use amr_ui::training::{TrainCommand, TrainEvent, TrainRunner};

use crate::compute::Compute;

struct Inner {
    commands: VecDeque<TrainCommand>,
    events: Vec<TrainEvent>,
    dataset: Option<Rc<Dataset>>,
    compute: Compute,
}

/// The panel's end of the browser trainer.
#[derive(Clone)]
pub struct WebRunner {
    inner: Rc<RefCell<Inner>>,
}

impl WebRunner {
    /// Starts the task; it trains on `dataset` on `compute` and wakes the App's `ctx` on every event.
    pub fn spawn(dataset: Rc<Dataset>, compute: Compute, ctx: egui::Context) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            commands: VecDeque::new(),
            events: Vec::new(),
            dataset: Some(dataset),
            compute,
        }));
        wasm_bindgen_futures::spawn_local(run(Rc::clone(&inner), ctx));
        Self { inner }
    }

    /// Trains on `dataset` from the next run on (the data the page fetched after its first paint).
    pub fn set_dataset(&self, dataset: Rc<Dataset>) {
        self.inner.borrow_mut().dataset = Some(dataset);
    }

    /// Trains on `compute` from the next run on.
    pub fn set_compute(&self, compute: Compute) {
        self.inner.borrow_mut().compute = compute;
    }
}

impl TrainRunner for WebRunner {
    fn send(&mut self, command: TrainCommand) {
        self.inner.borrow_mut().commands.push_back(command);
    }

    fn poll(&mut self) -> Vec<TrainEvent> {
        std::mem::take(&mut self.inner.borrow_mut().events)
    }
}

struct Run {
    trainer: Trainer,
    dataset: Rc<Dataset>,
    end: usize,
    paused: bool,
}

/// Offers the run's checkpoint (model, optimiser, state) as a download the desktop app opens.
async fn download(run: &Run) -> Result<(String, Box<Checkpoint>), String> {
    let ckpt = run.trainer.checkpoint_async().await.map_err(|e| e.to_string())?;
    let bytes = ckpt.to_bytes().map_err(|e| e.to_string())?;
    let name = format!("amr-browser-step{}.safetensors", run.trainer.steps());
    crate::page::download(&bytes, &name, "application/octet-stream")?;
    // The App keeps the model only (for its reconstruction view).
    Ok((name, Box::new(Checkpoint { optimizer: Default::default(), ..ckpt })))
}

async fn run(inner: Rc<RefCell<Inner>>, ctx: egui::Context) {
    let mut current: Option<Run> = None;
    loop {
        let commands: Vec<TrainCommand> = inner.borrow_mut().commands.drain(..).collect();
        let mut out = Vec::new();
        for c in commands {
            match c {
                TrainCommand::Start { config, .. } if current.is_none() => {
                    let Some(ds) = inner.borrow().dataset.clone() else { continue };
                    let compute = inner.borrow().compute.clone();
                    match Trainer::new((*config).clone(), ds.len(), &compute.device) {
                        Ok(trainer) => {
                            let total = trainer.total_steps();
                            let end = if config.run.max_steps > 0 { config.run.max_steps.min(total) } else { total };
                            out.push(TrainEvent::Started {
                                dir: "the browser's memory".into(),
                                device: compute.label,
                                total_steps: total,
                                history: Vec::new(),
                                config,
                            });
                            current = Some(Run { trainer, dataset: ds, end, paused: false });
                        }
                        Err(e) => out.push(TrainEvent::Failed(e.to_string())),
                    }
                }
                TrainCommand::Start { .. } => {
                    out.push(TrainEvent::Failed("a run is going already; stop it first".into()));
                }
                TrainCommand::Resume { .. } => out.push(TrainEvent::Failed(
                    "the browser keeps no run folders; continue a downloaded checkpoint in the desktop app".into(),
                )),
                TrainCommand::Pause | TrainCommand::Continue => {
                    if let Some(r) = &mut current {
                        r.paused = c == TrainCommand::Pause;
                        out.push(if r.paused { TrainEvent::Paused } else { TrainEvent::Continued });
                    }
                }
                TrainCommand::Save => {
                    if let Some(r) = &current {
                        match download(r).await {
                            Ok((path, checkpoint)) => out.push(TrainEvent::Saved { path, checkpoint }),
                            Err(e) => out.push(TrainEvent::Failed(e)),
                        }
                    }
                }
                TrainCommand::Stop => {
                    if let Some(r) = current.take() {
                        if let Ok(c) = r.trainer.model_checkpoint_async().await {
                            out.push(TrainEvent::Saved { path: "memory".into(), checkpoint: Box::new(c) });
                        }
                        out.push(TrainEvent::Ended {
                            steps: r.trainer.steps(),
                            reason: "stopped; \"Save checkpoint\" before stopping downloads the model".into(),
                        });
                    }
                }
            }
        }
        let stepping = current.as_ref().is_some_and(|r| !r.paused);
        if let Some(r) = current.as_mut().filter(|r| !r.paused) {
            match r.trainer.step_async(&r.dataset).await {
                Ok(rep) => {
                    out.push(TrainEvent::Step(rep));
                    let steps = r.trainer.steps();
                    let every = r.trainer.config.run.checkpoint_every.max(1);
                    if (steps >= r.end || steps.is_multiple_of(every))
                        && let Ok(c) = r.trainer.model_checkpoint_async().await
                    {
                        out.push(TrainEvent::Saved { path: "memory".into(), checkpoint: Box::new(c) });
                    }
                    if steps >= r.end {
                        out.push(TrainEvent::Ended { steps, reason: "the schedule is done".into() });
                        current = None;
                    }
                }
                Err(e) => {
                    out.push(TrainEvent::Failed(e.to_string()));
                    current = None;
                }
            }
        }
        if !out.is_empty() {
            inner.borrow_mut().events.extend(out);
            ctx.request_repaint();
        }
        // Between steps the page draws a frame; idle, the task looks for commands 20 times a second.
        crate::page::sleep(if stepping { 0 } else { 50 }).await;
    }
}
