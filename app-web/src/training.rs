//! Where the page's runs train. On the CPU backend a step is tens of milliseconds of the thread's
//! time, so runs train in the training worker ([`WorkerRunner`]) and the page's thread only draws.
//! On WebGPU a step's work is the GPU's and the page's device is egui's, so runs train on the page's
//! thread ([`WebRunner`]). Without a worker (the browser refused one, or it died) the page's thread
//! trains on the CPU too, as before the worker existed.

use std::cell::Cell;
use std::rc::Rc;

use amr_core::data::Dataset;
use amr_ui::training::{TrainCommand, TrainEvent, TrainRunner};

use crate::compute::Compute;
use crate::runner::WebRunner;
use crate::worker::WorkerRunner;

/// Where a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The training worker.
    Worker,
    /// The page's own thread.
    Page,
}

/// The panel's runner in the page: the worker or the page's thread, chosen per run.
#[derive(Clone)]
pub struct PageTrainer {
    page: WebRunner,
    worker: Option<WorkerRunner>,
    /// Where the last run started.
    place: Rc<Cell<Place>>,
}

impl PageTrainer {
    /// The runners on `dataset`, the next run on `compute`; the worker only if `use_worker`. The
    /// second value says why there is no worker, if there is none.
    pub fn spawn(
        dataset: Rc<Dataset>,
        compute: Compute,
        ctx: &egui::Context,
        use_worker: bool,
    ) -> (Self, Option<String>) {
        let page = WebRunner::spawn(dataset, compute, ctx.clone());
        let (worker, why) = match use_worker.then(|| WorkerRunner::spawn(ctx)) {
            Some(Ok(w)) => (Some(w), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, Some("the page was asked not to use a training worker (?worker=0)".to_string())),
        };
        let place = Rc::new(Cell::new(Place::Page));
        (Self { page, worker, place }, why)
    }

    /// Where the next run would train.
    pub fn next_place(&self) -> Place {
        match &self.worker {
            Some(w) if !self.page.on_webgpu() && w.failed().is_none() => Place::Worker,
            _ => Place::Page,
        }
    }

    /// Where the last run trained (the page's thread before any run).
    pub fn place(&self) -> Place {
        self.place.get()
    }

    /// Trains on `dataset`, read from the file `name` with `bytes`, from the next run on.
    pub fn set_dataset(&self, dataset: Rc<Dataset>, name: &str, bytes: &[u8]) {
        self.page.set_dataset(dataset);
        if let Some(w) = &self.worker {
            w.set_dataset(name, bytes);
        }
    }

    /// Trains on `compute` from the next run on (the worker always trains on the CPU).
    pub fn set_compute(&self, compute: Compute) {
        self.page.set_compute(compute);
    }

    /// Rests `rest` times the last step's time between steps, wherever runs train ([`crate::pacer`]).
    pub fn set_rest(&self, rest: f64) {
        self.page.set_rest(rest);
        if let Some(w) = &self.worker {
            w.set_rest(rest);
        }
    }

    fn current(&mut self) -> &mut dyn TrainRunner {
        match (&mut self.worker, self.place.get()) {
            (Some(w), Place::Worker) => w,
            _ => &mut self.page,
        }
    }
}

impl TrainRunner for PageTrainer {
    fn send(&mut self, command: TrainCommand) {
        if matches!(command, TrainCommand::Start { .. }) {
            self.place.set(self.next_place());
        }
        self.current().send(command);
    }

    fn poll(&mut self) -> Vec<TrainEvent> {
        let mut events = self.page.poll();
        if let Some(w) = &mut self.worker {
            events.extend(w.poll());
        }
        events
    }
}
