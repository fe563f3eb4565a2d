//! The protocol between the App's training panel and whatever runs the trainer: a worker thread in
//! the desktop app, an async task between frames in the browser. The panel queues
//! [`TrainCommand`]s; the runner answers with [`TrainEvent`]s.

use amr_core::pretrain::{Checkpoint, PretrainConfig, StepReport};

/// What the panel asks the runner to do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TrainCommand {
    /// Start a new run of `config` in the run folder `dir` (ignored where there is no file system).
    Start {
        /// The run config.
        config: Box<PretrainConfig>,
        /// The run folder.
        dir: String,
    },
    /// Continue the run saved in the folder `dir`.
    Resume {
        /// The run folder.
        dir: String,
    },
    /// Hold after the current step.
    Pause,
    /// Go on after a pause.
    Continue,
    /// Write the checkpoint and end the run after the current step.
    Stop,
    /// Write the checkpoint now.
    Save,
}

/// What the runner reports.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// A run began (or resumed).
    Started(Box<RunStart>),
    /// One optimiser step ended.
    Step(StepReport),
    /// The run holds.
    Paused,
    /// The run goes on.
    Continued,
    /// A checkpoint was written (its model feeds the reconstruction view).
    Saved {
        /// Where.
        path: String,
        /// What.
        checkpoint: Box<Checkpoint>,
    },
    /// The run ended: stopped, or at the end of its schedule.
    Ended {
        /// Steps done.
        steps: usize,
        /// Why, in words.
        reason: String,
    },
    /// The run failed; what was saved stays.
    Failed(String),
}

/// What a runner says when a run begins (or resumes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunStart {
    /// Its run folder.
    pub dir: String,
    /// The compute device, in words.
    pub device: String,
    /// Steps of the whole schedule.
    pub total_steps: usize,
    /// The steps already done (a resumed run's metrics).
    pub history: Vec<StepReport>,
    /// The run's config.
    pub config: PretrainConfig,
}

/// Where the run stands, as the panel sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainState {
    /// No run.
    #[default]
    Idle,
    /// Asked to start, no answer yet.
    Starting,
    /// Stepping.
    Running,
    /// Holding.
    Paused,
    /// Asked to stop, no answer yet.
    Stopping,
}

/// Runs the trainer for the App: the desktop's worker thread, the browser's async task.
pub trait TrainRunner {
    /// Queues a command.
    fn send(&mut self, command: TrainCommand);
    /// The events that arrived since the last call.
    fn poll(&mut self) -> Vec<TrainEvent>;
}
