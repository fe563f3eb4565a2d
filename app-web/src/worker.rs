//! The training worker: a Web Worker that loads the same module as the page (`worker.js`, copied
//! beside the page by build.sh) and runs the training loop there, so the page's thread only draws.
//! [`worker_start`] is the worker's side; [`WorkerRunner`] is the page's end of it. Messages are
//! [`crate::wire`]'s, carried as `{ text, bytes }` objects.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use amr_ui::training::{TrainCommand, TrainEvent, TrainRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::compute::Compute;
use crate::runner::{Host, Queue};
use crate::wire::{self, Arrival, Envelope, FromWorker, ToWorker};

/// The worker's script, beside the page.
const WORKER_SCRIPT: &str = "worker.js";

/// A message as the browser carries it: `{ text, bytes }`.
fn pack<M: Serialize>(envelope: &Envelope<M>) -> Result<JsValue, String> {
    let object = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| {
        js_sys::Reflect::set(&object, &JsValue::from_str(key), value).map_err(|e| format!("{e:?}"))
    };
    set("text", &JsValue::from_str(&envelope.text()?))?;
    if let Some(bytes) = &envelope.bytes {
        set("bytes", &js_sys::Uint8Array::from(bytes.as_slice()))?;
    }
    Ok(object.into())
}

/// Reads a `{ text, bytes }` message.
fn unpack<M: DeserializeOwned>(data: &JsValue) -> Result<Envelope<M>, String> {
    let field = |key: &str| js_sys::Reflect::get(data, &JsValue::from_str(key)).ok();
    let text = field("text").and_then(|t| t.as_string()).ok_or("a worker message without its text")?;
    let bytes = field("bytes").and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok()).map(|a| a.to_vec());
    Envelope::read(&text, bytes)
}

/// The worker's side of the messages.
struct WorkerHost {
    scope: web_sys::DedicatedWorkerGlobalScope,
}

impl WorkerHost {
    fn post(&self, envelope: &Envelope<FromWorker>) {
        match pack(envelope) {
            Ok(message) => {
                let _ = self.scope.post_message(&message);
            }
            Err(e) => self.fail(&e),
        }
    }

    fn fail(&self, why: &str) {
        if let Ok(message) = pack(&Envelope::bare(FromWorker::Failed(why.to_string()))) {
            let _ = self.scope.post_message(&message);
        }
    }
}

impl Host for WorkerHost {
    fn emit(&self, events: Vec<TrainEvent>) {
        for event in events {
            match wire::event_message(&event) {
                Ok(envelope) => self.post(&envelope),
                Err(e) => self.fail(&e),
            }
        }
    }

    fn download(&self, bytes: Vec<u8>, name: &str) -> Result<(), String> {
        self.post(&Envelope { message: FromWorker::Download { name: name.to_string() }, bytes: Some(bytes) });
        Ok(())
    }
}

/// The worker's entry point (called by `worker.js`): trains on the CPU backend on the embedded demo
/// clips until the page sends its data, runs the page's commands, and posts the events back. A panic
/// is posted as [`FromWorker::Died`], so the page trains on its own thread from then on.
#[wasm_bindgen]
pub fn worker_start() {
    let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() else {
        return;
    };
    let panic_scope = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(message) = pack(&Envelope::bare(FromWorker::Died(info.to_string()))) {
            let _ = panic_scope.post_message(&message);
        }
    }));
    let host = WorkerHost { scope: scope.clone() };
    let dataset = match amr_core::demo::demo_dataset() {
        Ok(d) => d,
        Err(e) => return host.post(&Envelope::bare(FromWorker::Died(e.to_string()))),
    };
    let queue = Queue::shared(Rc::new(dataset), Compute::cpu("in a Web Worker: the page draws while it trains"));
    let (inbox, replies) = (Rc::clone(&queue), WorkerHost { scope: scope.clone() });
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            match unpack::<ToWorker>(&event.data()) {
                Ok(Envelope { message: ToWorker::Dataset { name }, bytes }) => {
                    let read = bytes.ok_or_else(|| "its bytes are missing".to_string()).and_then(|b| {
                        amr_core::data::read_dataset_bytes(&b, Path::new(&name)).map_err(|e| e.to_string())
                    });
                    match read {
                        Ok(ds) => inbox.borrow_mut().dataset = Some(Rc::new(ds)),
                        Err(e) => replies.fail(&format!("the training worker could not read {name}: {e}")),
                    }
                }
                Ok(Envelope { message: ToWorker::Command(command), .. }) => {
                    inbox.borrow_mut().commands.push_back(command);
                }
                Ok(Envelope { message: ToWorker::Rest(rest), .. }) => inbox.borrow_mut().rest = rest,
                Err(e) => replies.fail(&e),
            }
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    host.post(&Envelope::bare(FromWorker::Ready));
    wasm_bindgen_futures::spawn_local(crate::runner::run(queue, host));
}

/// The page's side of the link.
#[derive(Default)]
struct Link {
    /// The worker listens.
    ready: bool,
    /// Why the worker cannot train (it did not load, or it died).
    failed: Option<String>,
    /// Messages sent before the worker listened.
    pending: Vec<JsValue>,
    /// Events not yet polled.
    events: Vec<TrainEvent>,
}

/// The panel's end of the training worker.
#[derive(Clone)]
pub struct WorkerRunner {
    worker: web_sys::Worker,
    link: Rc<RefCell<Link>>,
}

impl WorkerRunner {
    /// Starts the worker; its events wake the App's `ctx`. An error when the browser cannot start one.
    pub fn spawn(ctx: &egui::Context) -> Result<Self, String> {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(WORKER_SCRIPT, &options)
            .map_err(|e| format!("the training worker ({WORKER_SCRIPT}) could not start: {e:?}"))?;
        let link = Rc::new(RefCell::new(Link::default()));
        let (on_link, on_worker, on_ctx) = (Rc::clone(&link), worker.clone(), ctx.clone());
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let arrival = unpack::<FromWorker>(&event.data())
                .map_or_else(|e| Arrival::Event(TrainEvent::Failed(e)), wire::arrival);
            let mut link = on_link.borrow_mut();
            match arrival {
                Arrival::Ready => {
                    link.ready = true;
                    for message in std::mem::take(&mut link.pending) {
                        let _ = on_worker.post_message(&message);
                    }
                }
                Arrival::Event(e) => link.events.push(e),
                Arrival::Download { name, bytes } => {
                    if let Err(e) = crate::page::download(&bytes, &name, "application/octet-stream") {
                        link.events.push(TrainEvent::Failed(e));
                    }
                }
                Arrival::Died(why) => {
                    let why = format!("the training worker stopped ({why}); runs train on the page's thread now");
                    link.failed = Some(why.clone());
                    link.events.push(TrainEvent::Failed(why));
                }
            }
            on_ctx.request_repaint();
        });
        let (err_link, err_ctx) = (Rc::clone(&link), ctx.clone());
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let what =
                event.dyn_ref::<web_sys::ErrorEvent>().map_or_else(|| event.type_(), web_sys::ErrorEvent::message);
            let why = format!("the training worker failed ({what}); runs train on the page's thread now");
            let mut link = err_link.borrow_mut();
            link.failed = Some(why.clone());
            link.events.push(TrainEvent::Failed(why));
            err_ctx.request_repaint();
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The page keeps the worker for its whole life.
        on_message.forget();
        on_error.forget();
        Ok(Self { worker, link })
    }

    /// Why the worker cannot train, if it cannot.
    pub fn failed(&self) -> Option<String> {
        self.link.borrow().failed.clone()
    }

    /// Trains on the dataset file `name` with `bytes` from the next run on.
    pub fn set_dataset(&self, name: &str, bytes: &[u8]) {
        self.post(&Envelope { message: ToWorker::Dataset { name: name.to_string() }, bytes: Some(bytes.to_vec()) });
    }

    /// Rests `rest` times the last step's time between steps ([`crate::pacer`]).
    pub fn set_rest(&self, rest: f64) {
        self.post(&Envelope::bare(ToWorker::Rest(rest)));
    }

    fn post(&self, envelope: &Envelope<ToWorker>) {
        let mut link = self.link.borrow_mut();
        match pack(envelope) {
            Ok(message) if link.ready => {
                let _ = self.worker.post_message(&message);
            }
            Ok(message) => link.pending.push(message),
            Err(e) => link.events.push(TrainEvent::Failed(e)),
        }
    }
}

impl TrainRunner for WorkerRunner {
    fn send(&mut self, command: TrainCommand) {
        self.post(&Envelope::bare(ToWorker::Command(command)));
    }

    fn poll(&mut self) -> Vec<TrainEvent> {
        std::mem::take(&mut self.link.borrow_mut().events)
    }
}
