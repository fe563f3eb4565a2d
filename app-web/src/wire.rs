//! The messages between the page and the training worker (a Web Worker running the same module).
//! A message is a small JSON text plus, where it carries a file (a dataset, a checkpoint), that
//! file's bytes beside it: `postMessage({ text, bytes })`. Everything here is plain Rust, so the
//! round trips are tested natively.

use std::path::Path;

use amr_core::pretrain::{Checkpoint, StepReport};
use amr_ui::training::{RunStart, TrainCommand, TrainEvent};
use serde::{Deserialize, Serialize};

/// What the page sends the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// A panel command (the worker keeps no run folders: it answers `Resume` with a failure).
    Command(TrainCommand),
    /// Train on the dataset file whose bytes come with the message, from the next run on.
    Dataset {
        /// Its file name (the reader picks the format by its extension).
        name: String,
    },
    /// Rest between steps, in multiples of the last step's time ([`crate::pacer`]).
    Rest(f64),
}

/// What the worker sends the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker listens; commands sent before this wait in the page.
    Ready,
    /// [`TrainEvent::Started`].
    Started(Box<RunStart>),
    /// [`TrainEvent::Step`].
    Step(StepReport),
    /// [`TrainEvent::Paused`].
    Paused,
    /// [`TrainEvent::Continued`].
    Continued,
    /// [`TrainEvent::Saved`]; the checkpoint's file bytes come with the message.
    Saved {
        /// Where, in words.
        path: String,
    },
    /// The page should offer the bytes that come with the message as a download named `name`.
    Download {
        /// The file name.
        name: String,
    },
    /// [`TrainEvent::Ended`].
    Ended {
        /// Steps done.
        steps: usize,
        /// Why.
        reason: String,
    },
    /// [`TrainEvent::Failed`].
    Failed(String),
    /// The worker stopped on an internal error (a panic) and takes no more commands.
    Died(String),
}

/// A message with the bytes of the file it carries, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<M> {
    /// The message.
    pub message: M,
    /// The file it carries.
    pub bytes: Option<Vec<u8>>,
}

impl<M> Envelope<M> {
    /// A message without a file.
    pub fn bare(message: M) -> Self {
        Self { message, bytes: None }
    }
}

impl<M: Serialize> Envelope<M> {
    /// The JSON text of the message.
    pub fn text(&self) -> Result<String, String> {
        serde_json::to_string(&self.message).map_err(|e| format!("encoding a worker message: {e}"))
    }
}

impl<M: serde::de::DeserializeOwned> Envelope<M> {
    /// Reads a message from its JSON text and its bytes.
    pub fn read(text: &str, bytes: Option<Vec<u8>>) -> Result<Self, String> {
        let message = serde_json::from_str(text)
            .map_err(|e| format!("a worker message that does not parse ({e}): {text:.80}"))?;
        Ok(Self { message, bytes })
    }
}

/// The message for a runner event (a checkpoint travels as its file's bytes).
pub fn event_message(event: &TrainEvent) -> Result<Envelope<FromWorker>, String> {
    let bare = |m| Ok(Envelope::bare(m));
    match event {
        TrainEvent::Started(start) => bare(FromWorker::Started(start.clone())),
        TrainEvent::Step(r) => bare(FromWorker::Step(r.clone())),
        TrainEvent::Paused => bare(FromWorker::Paused),
        TrainEvent::Continued => bare(FromWorker::Continued),
        TrainEvent::Saved { path, checkpoint } => {
            let bytes = checkpoint.to_bytes().map_err(|e| e.to_string())?;
            Ok(Envelope { message: FromWorker::Saved { path: path.clone() }, bytes: Some(bytes) })
        }
        TrainEvent::Ended { steps, reason } => bare(FromWorker::Ended { steps: *steps, reason: reason.clone() }),
        TrainEvent::Failed(e) => bare(FromWorker::Failed(e.clone())),
    }
}

/// What the page does with a worker's message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// The worker listens.
    Ready,
    /// An event for the panel.
    Event(TrainEvent),
    /// Bytes to offer as a download.
    Download {
        /// The file name.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// The worker is dead (why); the page trains on its own thread from now on.
    Died(String),
}

/// Reads a worker's message; a message that lacks its bytes or carries a damaged checkpoint becomes
/// a [`TrainEvent::Failed`] that says so.
pub fn arrival(envelope: Envelope<FromWorker>) -> Arrival {
    let Envelope { message, bytes } = envelope;
    let event = match message {
        FromWorker::Ready => return Arrival::Ready,
        FromWorker::Died(why) => return Arrival::Died(why),
        FromWorker::Download { name } => match bytes {
            Some(bytes) => return Arrival::Download { name, bytes },
            None => TrainEvent::Failed(format!("the worker's download of {name} came without its bytes")),
        },
        FromWorker::Started(start) => TrainEvent::Started(start),
        FromWorker::Step(r) => TrainEvent::Step(r),
        FromWorker::Paused => TrainEvent::Paused,
        FromWorker::Continued => TrainEvent::Continued,
        FromWorker::Saved { path } => match bytes.as_deref().map(|b| Checkpoint::from_bytes(b, Path::new(&path))) {
            Some(Ok(checkpoint)) => TrainEvent::Saved { path, checkpoint: Box::new(checkpoint) },
            Some(Err(e)) => TrainEvent::Failed(format!("the worker's checkpoint does not read: {e}")),
            None => TrainEvent::Failed(format!("the worker's checkpoint {path} came without its bytes")),
        },
        FromWorker::Ended { steps, reason } => TrainEvent::Ended { steps, reason },
        FromWorker::Failed(e) => TrainEvent::Failed(e),
    };
    Arrival::Event(event)
}

#[cfg(test)]
mod tests {
    use amr_core::pretrain::{PretrainConfig, Trainer, TrainerState};

    use super::*;

    /// Through the wire as the browser carries it: JSON text and a byte copy.
    fn carried<M: Serialize + serde::de::DeserializeOwned>(e: &Envelope<M>) -> Envelope<M> {
        Envelope::read(&e.text().unwrap(), e.bytes.clone()).unwrap()
    }

    #[test]
    fn every_command_crosses_to_the_worker_and_back() {
        let config = Box::new(PretrainConfig::browser_demo());
        let commands = [
            TrainCommand::Start { config: config.clone(), dir: String::new() },
            TrainCommand::Resume { dir: String::new() },
            TrainCommand::Pause,
            TrainCommand::Continue,
            TrainCommand::Stop,
            TrainCommand::Save,
        ];
        for c in commands {
            let back = carried(&Envelope::bare(ToWorker::Command(c.clone())));
            assert_eq!(back.message, ToWorker::Command(c));
        }
        let data = carried(&Envelope { message: ToWorker::Dataset { name: "a.bvh".into() }, bytes: Some(vec![1, 2]) });
        assert_eq!(data.bytes, Some(vec![1, 2]));
        assert_eq!(data.message, ToWorker::Dataset { name: "a.bvh".into() }, "a dataset is not a panel command");
        assert_eq!(carried(&Envelope::bare(ToWorker::Rest(0.5625))).message, ToWorker::Rest(0.5625));
    }

    #[test]
    fn every_event_crosses_to_the_page_with_its_checkpoint_bit_for_bit() {
        let device = amr_core::backend::cpu_device();
        let mut config = PretrainConfig::browser_demo();
        config.batch_size = 2;
        let ds = amr_core::demo::demo_dataset().unwrap();
        let mut trainer = Trainer::new(config.clone(), ds.len(), &device).unwrap();
        let report = trainer.step(&ds).unwrap();
        let checkpoint: Checkpoint<PretrainConfig, TrainerState> = trainer.checkpoint().unwrap();
        let events = [
            TrainEvent::Started(Box::new(RunStart {
                dir: "memory".into(),
                device: "cpu".into(),
                total_steps: 7,
                history: vec![report.clone()],
                config,
            })),
            TrainEvent::Step(report),
            TrainEvent::Paused,
            TrainEvent::Continued,
            TrainEvent::Saved { path: "memory".into(), checkpoint: Box::new(checkpoint) },
            TrainEvent::Ended { steps: 1, reason: "done".into() },
            TrainEvent::Failed("no".into()),
        ];
        for e in events {
            let back = arrival(carried(&event_message(&e).unwrap()));
            assert_eq!(back, Arrival::Event(e));
        }
    }

    #[test]
    fn a_message_without_its_bytes_or_with_damaged_ones_is_a_failure_that_says_so() {
        let failed = |a: Arrival| match a {
            Arrival::Event(TrainEvent::Failed(e)) => e,
            other => panic!("expected a failure, got {other:?}"),
        };
        let e = failed(arrival(Envelope::bare(FromWorker::Saved { path: "memory".into() })));
        assert!(e.contains("without its bytes"), "{e}");
        let e = failed(arrival(Envelope {
            message: FromWorker::Saved { path: "memory".into() },
            bytes: Some(b"not a checkpoint".to_vec()),
        }));
        assert!(e.contains("does not read") && e.contains("memory"), "{e}");
        let e = failed(arrival(Envelope::bare(FromWorker::Download { name: "x.safetensors".into() })));
        assert!(e.contains("x.safetensors"), "{e}");
        let e = Envelope::<FromWorker>::read("{\"Bogus\":1}", None).unwrap_err();
        assert!(e.contains("does not parse"), "{e}");
    }
}
