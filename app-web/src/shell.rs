//! The web shell: the shared App plus what the page provides: the browser trainer, files picked in
//! the page, the demo data fetched after the first paint, the URL fragment, downloads, local storage,
//! and a status line (`#amr-status`, JSON) that people and tests read.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use amr_core::pretrain::PretrainConfig;
use amr_ui::training::TrainState;
use amr_ui::{AmrApp, DrawReport, ReportSink, Request, Settings};

use crate::compute::{Adapter, Compute, Switches};
use crate::pacer::{Pacer, Phase};
use crate::page;
use crate::training::PageTrainer;

/// What arrives from outside the frame loop.
pub enum Inbox {
    /// A file's bytes: the user's, or the demo data fetched after the first paint.
    File {
        /// Its name.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
        /// Whether it is the fetched demo data.
        demo: bool,
    },
    /// The demo data could not be fetched; the first-paint data stays.
    DemoFailed(String),
    /// The shipped model fetched after the demo data (or why it could not be).
    Model {
        /// Its file name.
        name: String,
        /// Its bytes.
        bytes: Result<Vec<u8>, String>,
    },
    /// A screenshot to save.
    Screenshot(Arc<egui::ColorImage>),
    /// burn's own WebGPU device arrived (or could not be had: the CPU stays).
    Compute(Result<Compute, String>),
}

/// A shared queue into the shell.
pub type InboxQueue = Arc<Mutex<Vec<Inbox>>>;

const SETTINGS_KEY: &str = "amr-settings";
/// The steps/s by the clock are counted over this many milliseconds.
const STEP_RATE_MS: f64 = 5000.0;

/// Hands `compute`'s device to the App (its reconstruction view) with its top-bar label.
fn show_compute(app: &mut AmrApp, compute: &Compute) {
    app.set_device(compute.device.clone(), &format!("compute: {}", compute.kind));
}

/// The App in the page.
pub struct WebShell {
    app: AmrApp,
    sink: ReportSink,
    runner: PageTrainer,
    inbox: InboxQueue,
    compute: Compute,
    adapter: Option<Adapter>,
    /// Why the page computes where it does.
    compute_reason: String,
    /// The fragment the page was opened with (applied again when the demo data arrives).
    initial_hash: String,
    last_hash: String,
    data_name: String,
    data_ready: bool,
    first_paint_ms: Option<f64>,
    last_status_ms: f64,
    last_status: String,
    last_settings_ms: f64,
    saved_settings: String,
    /// Asks the trainer to rest between steps while the page draws too slowly (none with `?pace=0`).
    pacer: Option<Pacer>,
    /// (time in ms, steps trained) of the last seconds' frames, for the steps/s by the clock.
    step_times: std::collections::VecDeque<(f64, usize)>,
}

impl WebShell {
    /// The shell on `dataset` (the embedded first-paint data), its trainer on `ctx` (in the training
    /// worker and paced as the page's `switches` say), computing on `compute` (chosen for `reason` on
    /// the browser's `adapter`).
    pub fn new(
        dataset: amr_core::data::Dataset,
        ctx: &egui::Context,
        inbox: InboxQueue,
        compute: Compute,
        switches: Switches,
        adapter: Option<Adapter>,
        reason: String,
    ) -> Self {
        let sink: ReportSink = Arc::new(Mutex::new(None));
        let (runner, no_worker) = PageTrainer::spawn(Rc::new(dataset.clone()), compute.clone(), ctx, switches.worker);
        let settings = page::load(SETTINGS_KEY)
            .and_then(|t| serde_json::from_str::<Settings>(&t).ok())
            .unwrap_or_else(|| Settings { run_config: PretrainConfig::browser_demo(), ..Settings::default() });
        let name = amr_core::demo::DEMO_NAME.replace("bandai2_demo", "bandai2_first");
        let mut app =
            AmrApp::new(dataset, &name, sink.clone()).with_settings(settings).with_runner(Box::new(runner.clone()));
        show_compute(&mut app, &compute);
        if let Some(why) = no_worker {
            app.notify(format!("{why}; runs train on the page's thread"));
        }
        let initial_hash = page::hash();
        app.apply_url_hash(&initial_hash);
        Self {
            app,
            sink,
            runner,
            inbox,
            compute,
            adapter,
            compute_reason: reason,
            initial_hash,
            last_hash: String::new(),
            data_name: name,
            data_ready: false,
            first_paint_ms: None,
            last_status_ms: f64::MIN,
            last_status: String::new(),
            last_settings_ms: 0.0,
            saved_settings: String::new(),
            pacer: switches.pace.then(Pacer::default),
            step_times: std::collections::VecDeque::new(),
        }
    }

    fn open(&mut self, name: &str, bytes: &[u8], demo: bool) {
        let path = std::path::Path::new(name);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        if ext == "toml" {
            match std::str::from_utf8(bytes) {
                Ok(text) => self.app.load_config_text(text, name),
                Err(e) => self.app.notify(format!("{name}: a run config is UTF-8 text: {e}")),
            }
            return;
        }
        match amr_core::data::read_dataset_bytes(bytes, path) {
            Ok(ds) => {
                let n = ds.len();
                self.runner.set_dataset(Rc::new(ds.clone()), name, bytes);
                self.app.set_dataset(ds, name);
                self.data_name = format!("{name} ({n} sequences)");
                if demo {
                    self.data_ready = true;
                    let hash = self.initial_hash.clone();
                    self.app.apply_url_hash(&hash);
                }
            }
            Err(e) if ext == "safetensors" => match self.app.open_model_bytes(bytes, name) {
                Ok(m) => self.app.notify(m),
                Err(_) => self.app.notify(e.to_string()),
            },
            Err(e) => self.app.notify(e.to_string()),
        }
        // A damaged demo file leaves the first-paint data in place (and says why).
        self.data_ready |= demo;
    }

    fn set_compute(&mut self, compute: Compute) {
        self.runner.set_compute(compute.clone());
        show_compute(&mut self.app, &compute);
        self.app.notify(format!("computing on {}", compute.label));
        self.compute = compute;
    }

    /// Counts this frame for the pacer (and passes its new rest on) and for the steps/s.
    fn pace(&mut self, now_ms: f64, size: egui::Vec2) {
        let Some((animating, state)) =
            self.sink.lock().ok().and_then(|r| r.as_ref().map(|r| (r.animating, r.train_state)))
        else {
            return;
        };
        let phase = match state {
            _ if !animating => Phase::Still,
            TrainState::Running => Phase::Training,
            TrainState::Idle | TrainState::Paused => Phase::Idle,
            TrainState::Starting | TrainState::Stopping => Phase::Still,
        };
        if let Some(rest) = self.pacer.as_mut().and_then(|p| p.frame(now_ms, phase, [size.x, size.y])) {
            self.runner.set_rest(rest);
        }
        let steps = self.app.loss_history().len();
        if self.step_times.back().is_some_and(|&(_, s)| s > steps) {
            // A new run.
            self.step_times.clear();
        }
        self.step_times.push_back((now_ms, steps));
        while self.step_times.front().is_some_and(|&(t, _)| now_ms - t > STEP_RATE_MS) {
            self.step_times.pop_front();
        }
    }

    /// Steps a second by the clock over the last seconds, rests between steps included.
    fn steps_per_second(&self) -> Option<f64> {
        let (&(t0, s0), &(t1, s1)) = (self.step_times.front()?, self.step_times.back()?);
        (t1 - t0 > 1000.0 && s1 > s0).then(|| (s1 - s0) as f64 * 1000.0 / (t1 - t0))
    }

    fn status_json(&self, report: Option<&DrawReport>) -> String {
        let history = self.app.loss_history();
        let tail = &history[history.len().saturating_sub(20)..];
        let secs: f64 = tail.iter().map(|r| r.seconds).sum();
        let mean = |rows: &[amr_core::pretrain::StepReport]| {
            (!rows.is_empty()).then(|| rows.iter().map(|r| f64::from(r.loss)).sum::<f64>() / rows.len() as f64)
        };
        let k = self.app.weights().1.k;
        serde_json::json!({
            "ready": self.data_ready && report.is_some(),
            "backend": self.compute.label,
            "backend_kind": self.compute.kind,
            "backend_reason": self.compute_reason,
            "trainer": self.runner.place(),
            "next_trainer": self.runner.next_place(),
            "navigator_gpu": page::has_webgpu(),
            "adapter": self.adapter,
            "data": self.data_name,
            "first_paint_ms": self.first_paint_ms,
            "k": k,
            "hash": self.last_hash,
            "training": {
                "steps": history.len(),
                "first_loss": history.first().map(|r| r.loss),
                "last_loss": history.last().map(|r| r.loss),
                "last_trivial_loss": history.last().map(|r| r.trivial),
                "mean_loss_first_5": mean(&history[..history.len().min(5)]),
                "mean_loss_last_5": mean(&history[history.len().saturating_sub(5)..]),
                "steps_per_second": self.steps_per_second(),
                "step_ms": (secs > 0.0).then(|| 1000.0 * secs / tail.len() as f64),
            },
            "pace": self.pacer.as_ref().map(|p| serde_json::json!({
                "rest": p.rest(),
                "idle_fps": p.reference(),
                "share": p.share(),
            })),
            "report": report,
        })
        .to_string()
    }
}

impl eframe::App for WebShell {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let arrived: Vec<Inbox> = self.inbox.lock().map(|mut q| std::mem::take(&mut *q)).unwrap_or_default();
        for item in arrived {
            match item {
                Inbox::File { name, bytes, demo } => self.open(&name, &bytes, demo),
                Inbox::DemoFailed(e) => {
                    self.app.notify(format!("the demo data could not be fetched ({e}); showing the embedded clips"));
                    self.data_ready = true;
                }
                // The reconstruction view opens with it unless a model was opened or trained first.
                Inbox::Model { name, bytes } => {
                    match bytes
                        .map_err(|e| format!("{name}: {e}"))
                        .and_then(|b| amr_core::demo::read_demo_model(&b, &name).map_err(|e| e.to_string()))
                    {
                        Ok(c) => self.app.set_default_checkpoint(c),
                        Err(e) => log::warn!("the shipped model is not available: {e}"),
                    }
                }
                Inbox::Screenshot(image) => match page::download_png(&image, "amr-view.png") {
                    Ok(()) => self.app.notify("saved amr-view.png"),
                    Err(e) => self.app.notify(e),
                },
                Inbox::Compute(Ok(compute)) => self.set_compute(compute),
                Inbox::Compute(Err(e)) => {
                    self.compute_reason = format!("WebGPU failed: {e}");
                    self.set_compute(Compute::cpu(&self.compute_reason));
                }
            }
        }
        // A fragment edited by the user (or a link followed inside the page) takes over.
        let hash = page::hash();
        if !hash.is_empty() && hash.trim_start_matches('#') != self.last_hash {
            self.app.apply_url_hash(&hash);
        }
        self.app.ui(ui, frame);
        self.first_paint_ms.get_or_insert_with(page::now_ms);
        self.pace(page::now_ms(), ctx.content_rect().size());
        for r in self.app.take_requests() {
            match r {
                Request::OpenData | Request::LoadConfig | Request::LoadCheckpoint => page::pick_file(),
                Request::ExportView => {
                    let inbox = Arc::clone(&self.inbox);
                    let wake = ctx.clone();
                    ctx.request_screenshot(move |image| {
                        if let Ok(mut q) = inbox.lock() {
                            q.push(Inbox::Screenshot(image));
                        }
                        wake.request_repaint();
                    });
                    ctx.request_repaint();
                }
                Request::ExportHeatmap | Request::ExportLoss => {
                    self.app.notify("the heatmap and loss-curve pictures (PNG, SVG) are exported by the desktop app");
                }
            }
        }
        let fragment = self.app.url_hash();
        if fragment != self.last_hash {
            page::set_hash(&fragment);
            self.last_hash = fragment;
        }
        let now = page::now_ms();
        if now - self.last_status_ms > 250.0 {
            self.last_status_ms = now;
            let report = self.sink.lock().ok().and_then(|r| r.clone());
            let text = self.status_json(report.as_ref());
            if text != self.last_status {
                page::status(&text, self.data_ready && report.is_some());
                self.last_status = text;
            }
        }
        // The status line and the inbox are looked at four times a second even when nothing moves.
        ctx.request_repaint_after(std::time::Duration::from_millis(250));
        if now - self.last_settings_ms > 1000.0 {
            self.last_settings_ms = now;
            if let Ok(text) = serde_json::to_string(&self.app.settings())
                && text != self.saved_settings
            {
                page::store(SETTINGS_KEY, &text);
                self.saved_settings = text;
            }
        }
    }
}
