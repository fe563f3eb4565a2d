//! The browser's training loop: an async task that takes one step at a time and yields to the event
//! loop between steps. It runs in the training worker (a Web Worker: the page's thread only draws)
//! on the CPU backend, or on the page's own thread on WebGPU, where a step's work is the GPU's and
//! the page draws between steps. Losses and checkpoints are read back with `step_async` and
//! `checkpoint_async`, so nothing blocks. [`WebRunner`] is the page's end of the loop on its own thread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use amr_core::data::Dataset;
use amr_core::pretrain::{Checkpoint, Trainer};
use amr_ui::training::{RunStart, TrainCommand, TrainEvent, TrainRunner};

use crate::compute::Compute;

/// Where the loop's events go, and how it offers a checkpoint as a download.
pub trait Host {
    /// Hands the events of one turn of the loop to the panel.
    fn emit(&self, events: Vec<TrainEvent>);
    /// Offers `bytes` as a file download named `name`.
    fn download(&self, bytes: Vec<u8>, name: &str) -> Result<(), String>;
}

/// What the loop reads: the commands queued for it, and the data and device of the next run.
pub struct Queue {
    /// Commands not yet taken.
    pub commands: VecDeque<TrainCommand>,
    /// The data of the next run.
    pub dataset: Option<Rc<Dataset>>,
    /// The device of the next run.
    pub compute: Compute,
    /// Rest between steps, in multiples of the last step's time ([`crate::pacer`]).
    pub rest: f64,
}

/// The loop's queue, shared with whatever feeds it.
pub type SharedQueue = Rc<RefCell<Queue>>;

impl Queue {
    /// A queue for runs on `dataset` on `compute`.
    pub fn shared(dataset: Rc<Dataset>, compute: Compute) -> SharedQueue {
        Rc::new(RefCell::new(Self { commands: VecDeque::new(), dataset: Some(dataset), compute, rest: 0.0 }))
    }
}

/// The loop on the page's own thread: events go into a list the panel polls.
struct PageHost {
    events: Rc<RefCell<Vec<TrainEvent>>>,
    ctx: egui::Context,
}

impl Host for PageHost {
    fn emit(&self, events: Vec<TrainEvent>) {
        self.events.borrow_mut().extend(events);
        self.ctx.request_repaint();
    }

    fn download(&self, bytes: Vec<u8>, name: &str) -> Result<(), String> {
        crate::page::download(&bytes, name, "application/octet-stream")
    }
}

/// The panel's end of the loop on the page's own thread.
#[derive(Clone)]
pub struct WebRunner {
    queue: SharedQueue,
    events: Rc<RefCell<Vec<TrainEvent>>>,
}

impl WebRunner {
    /// Starts the loop; it trains on `dataset` on `compute` and wakes the App's `ctx` on every event.
    pub fn spawn(dataset: Rc<Dataset>, compute: Compute, ctx: egui::Context) -> Self {
        let queue = Queue::shared(dataset, compute);
        let events = Rc::new(RefCell::new(Vec::new()));
        let host = PageHost { events: Rc::clone(&events), ctx };
        wasm_bindgen_futures::spawn_local(run(Rc::clone(&queue), host));
        Self { queue, events }
    }

    /// Trains on `dataset` from the next run on (the data the page fetched after its first paint).
    pub fn set_dataset(&self, dataset: Rc<Dataset>) {
        self.queue.borrow_mut().dataset = Some(dataset);
    }

    /// Trains on `compute` from the next run on.
    pub fn set_compute(&self, compute: Compute) {
        self.queue.borrow_mut().compute = compute;
    }

    /// Rests `rest` times the last step's time between steps.
    pub fn set_rest(&self, rest: f64) {
        self.queue.borrow_mut().rest = rest;
    }

    /// Whether the next run trains on WebGPU.
    pub fn on_webgpu(&self) -> bool {
        self.queue.borrow().compute.kind == "webgpu"
    }
}

impl TrainRunner for WebRunner {
    fn send(&mut self, command: TrainCommand) {
        self.queue.borrow_mut().commands.push_back(command);
    }

    fn poll(&mut self) -> Vec<TrainEvent> {
        std::mem::take(&mut self.events.borrow_mut())
    }
}

struct Run {
    trainer: Trainer,
    dataset: Rc<Dataset>,
    end: usize,
    paused: bool,
}

/// Offers the run's checkpoint (model, optimiser, state) as a download the desktop app opens.
async fn download(run: &Run, host: &impl Host) -> Result<(String, Box<Checkpoint>), String> {
    let ckpt = run.trainer.checkpoint_async().await.map_err(|e| e.to_string())?;
    let bytes = ckpt.to_bytes().map_err(|e| e.to_string())?;
    let name = format!("amr-browser-step{}.safetensors", run.trainer.steps());
    host.download(bytes, &name)?;
    // The App keeps the model only (for its reconstruction view).
    Ok((name, Box::new(Checkpoint { optimizer: Default::default(), ..ckpt })))
}

/// The loop: takes the queued commands, then one step, then yields; forever.
pub async fn run(queue: SharedQueue, host: impl Host) {
    let mut current: Option<Run> = None;
    loop {
        let commands: Vec<TrainCommand> = queue.borrow_mut().commands.drain(..).collect();
        let mut out = Vec::new();
        for c in commands {
            match c {
                TrainCommand::Start { config, .. } if current.is_none() => {
                    let Some(ds) = queue.borrow().dataset.clone() else { continue };
                    let compute = queue.borrow().compute.clone();
                    match Trainer::new((*config).clone(), ds.len(), &compute.device) {
                        Ok(trainer) => {
                            let total = trainer.total_steps();
                            let end = if config.run.max_steps > 0 { config.run.max_steps.min(total) } else { total };
                            out.push(TrainEvent::Started(Box::new(RunStart {
                                dir: "the browser's memory".into(),
                                device: compute.label,
                                total_steps: total,
                                history: Vec::new(),
                                config: *config,
                            })));
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
                        match download(r, &host).await {
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
        let mut pause_ms = 50.0;
        if let Some(r) = current.as_mut().filter(|r| !r.paused) {
            match r.trainer.step_async(&r.dataset).await {
                Ok(rep) => {
                    pause_ms = queue.borrow().rest * rep.seconds * 1000.0;
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
            host.emit(out);
        }
        // Between steps the page draws a frame (and the trainer rests as long as the pacer asks);
        // idle, the task looks for commands 20 times a second.
        crate::page::sleep(pause_ms.clamp(0.0, 10_000.0) as i32).await;
    }
}
