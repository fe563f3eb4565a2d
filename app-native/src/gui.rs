//! The desktop window: the shared App plus what needs the desktop: the training worker thread, the
//! open dialog and dropped files, pictures written to disk, settings kept between launches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use amr_core::backend::DeviceChoice;
use amr_ui::{AmrApp, ReportSink, Request, Settings, Tab};
use anyhow::Context as _;
use clap::Args;

use crate::file_dialog::{DialogOutcome, FileDialog, Purpose};

/// Options of the desktop app.
#[derive(Args, Debug, Default)]
pub struct GuiArgs {
    /// Open this dataset file (amr-skeleton-v1, BVH or NTU npz) instead of the embedded demo data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Open this checkpoint in the reconstruction view.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Keep writing what the App draws (JSON, about 4 times a second) to this file, for tests and scripts.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// The settings file (default: $XDG_CONFIG_HOME/amr/settings.json or ~/.config/amr/settings.json).
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Open on this tab: explore, learn, train or reconstruct.
    #[arg(long)]
    pub tab: Option<String>,
    /// The training panel's run folder.
    #[arg(long)]
    pub run_dir: Option<String>,
    /// Where exported pictures go.
    #[arg(long, default_value = "exports")]
    pub export_dir: PathBuf,
    /// Training device: auto (a hardware GPU if there is one), gpu or cpu.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

fn default_settings_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("amr").join("settings.json"))
}

/// Reads the settings file; a missing file gives the defaults, a damaged one a warning and the defaults.
fn read_settings(path: &Path) -> Settings {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            log::warn!("{}: {e}; starting with the default settings", path.display());
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

/// Wraps the App with the desktop's services.
struct Shell {
    app: AmrApp,
    sink: ReportSink,
    report: Option<PathBuf>,
    last_report: f64,
    settings_path: Option<PathBuf>,
    saved_settings: Option<String>,
    last_settings_check: f64,
    dialog: Option<FileDialog>,
    export_dir: PathBuf,
    /// Messages from the screenshot callback.
    inbox: Arc<Mutex<Vec<String>>>,
}

impl Shell {
    fn new(
        app: AmrApp,
        sink: ReportSink,
        report: Option<PathBuf>,
        settings_path: Option<PathBuf>,
        export_dir: PathBuf,
    ) -> Self {
        Self {
            app,
            sink,
            report,
            last_report: f64::MIN,
            settings_path,
            saved_settings: None,
            last_settings_check: 0.0,
            dialog: None,
            export_dir,
            inbox: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn open_path(&mut self, path: &Path, purpose: Purpose) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.app.notify(format!("{}: {e}", path.display())),
        };
        self.open_bytes(&bytes, path, Some(purpose));
    }

    /// Opens a file's bytes for `purpose`, or for what its name says (dropped files).
    fn open_bytes(&mut self, bytes: &[u8], path: &Path, purpose: Option<Purpose>) {
        let name = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        let purpose = purpose.unwrap_or(match ext.as_str() {
            "toml" => Purpose::Config,
            _ => Purpose::Data,
        });
        match purpose {
            Purpose::Config => match std::str::from_utf8(bytes) {
                Ok(text) => self.app.load_config_text(text, &name),
                Err(e) => self.app.notify(format!("{name}: a run config is UTF-8 text: {e}")),
            },
            Purpose::Checkpoint => self.app.load_checkpoint_bytes(bytes, &name),
            Purpose::Data => match amr_core::data::read_dataset_bytes(bytes, path) {
                Ok(ds) => self.app.set_dataset(ds, &name),
                // A dropped .safetensors may be a checkpoint rather than a dataset.
                Err(e) if ext == "safetensors" => match self.app.open_model_bytes(bytes, &name) {
                    Ok(m) => self.app.notify(m),
                    Err(_) => self.app.notify(e.to_string()),
                },
                Err(e) => self.app.notify(e.to_string()),
            },
        }
    }

    fn export(&mut self, ctx: &egui::Context, request: Request) {
        if let Err(e) = std::fs::create_dir_all(&self.export_dir) {
            return self.app.notify(format!("{}: {e}", self.export_dir.display()));
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let result = match request {
            Request::ExportView => {
                let path = self.export_dir.join(format!("view-{stamp}.png"));
                let inbox = Arc::clone(&self.inbox);
                ctx.request_screenshot(move |image| {
                    let message = match write_png(&path, &image) {
                        Ok(()) => format!("wrote {}", path.display()),
                        Err(e) => crate::error_text::error_text(&e),
                    };
                    if let Ok(mut i) = inbox.lock() {
                        i.push(message);
                    }
                });
                ctx.request_repaint();
                return;
            }
            Request::ExportHeatmap => {
                let (fw, cfg) = self.app.weights();
                let seq = self.app.shown_sequence();
                let png = self.export_dir.join(format!("heatmap-{stamp}.png"));
                let svg = png.with_extension("svg");
                crate::weights_plot::plot(self.app.dataset(), seq, fw, cfg, &png)
                    .and_then(|()| crate::weights_plot::plot(self.app.dataset(), seq, fw, cfg, &svg))
                    .map(|()| format!("wrote {} and .svg", png.display()))
            }
            Request::ExportLoss => {
                let dir = self.export_dir.join(format!("loss-{stamp}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))
                    .and_then(|()| crate::loss_plot::plot_loss(self.app.loss_history(), &dir))
                    .map(|()| format!("wrote {}/loss.png and loss.svg", dir.display()))
            }
            Request::OpenData | Request::LoadConfig | Request::LoadCheckpoint => return,
        };
        match result {
            Ok(m) => self.app.notify(m),
            Err(e) => self.app.notify(crate::error_text::error_text(&e)),
        }
    }

    fn persist(&mut self, now: f64) {
        if now - self.last_settings_check < 1.0 {
            return;
        }
        self.last_settings_check = now;
        let Some(path) = &self.settings_path else { return };
        let Ok(text) = serde_json::to_string_pretty(&self.app.settings()) else { return };
        if self.saved_settings.as_ref() != Some(&text) {
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| e.to_string())
                .and_then(|()| amr_core::io::write_atomically(path, text.as_bytes()).map_err(|e| e.to_string()));
            match written {
                Ok(()) => self.saved_settings = Some(text),
                Err(e) => log::warn!("cannot save the settings to {}: {e}", path.display()),
            }
        }
    }
}

fn write_png(path: &Path, image: &egui::ColorImage) -> anyhow::Result<()> {
    let [w, h] = image.size;
    let rgb: Vec<u8> = image.pixels.iter().flat_map(|c| [c.r(), c.g(), c.b()]).collect();
    let buf = image::RgbImage::from_raw(w as u32, h as u32, rgb).context("screenshot of the wrong size")?;
    buf.save(path).with_context(|| format!("writing {}", path.display()))
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let dropped = ui.input(|i| i.raw.dropped_files.clone());
        for f in dropped {
            let path = f.path().to_path_buf();
            match f.bytes() {
                Ok(b) => self.open_bytes(&b, &path, None),
                Err(e) => self.app.notify(format!("{}: {e}", path.display())),
            }
        }
        let messages: Vec<String> = self.inbox.lock().map(|mut i| std::mem::take(&mut *i)).unwrap_or_default();
        for m in messages {
            self.app.notify(m);
        }
        self.app.ui(ui, frame);
        for r in self.app.take_requests() {
            let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            match r {
                Request::OpenData => self.dialog = Some(FileDialog::new(Purpose::Data, &start)),
                Request::LoadConfig => self.dialog = Some(FileDialog::new(Purpose::Config, &start)),
                Request::LoadCheckpoint => self.dialog = Some(FileDialog::new(Purpose::Checkpoint, &start)),
                other => self.export(&ctx, other),
            }
        }
        if let Some(d) = &mut self.dialog {
            let purpose = d.purpose;
            match d.show(&ctx) {
                DialogOutcome::Open => {}
                DialogOutcome::Cancelled => self.dialog = None,
                DialogOutcome::Chosen(p) => {
                    self.dialog = None;
                    self.open_path(&p, purpose);
                }
            }
        }
        let now = ui.input(|i| i.time);
        self.persist(now);
        if let Some(path) = &self.report {
            if now - self.last_report >= 0.25 {
                self.last_report = now;
                let report = self.sink.lock().ok().and_then(|r| r.clone());
                let json = serde_json::to_string_pretty(&report).unwrap_or_default();
                if let Err(e) = amr_core::io::write_atomically(path, json.as_bytes()) {
                    log::error!("cannot write the draw report: {e}");
                }
            }
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
    }
}

/// Opens the window and runs until it is closed.
pub fn run(args: &GuiArgs) -> anyhow::Result<()> {
    let (dataset, name) = match &args.data {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            (amr_core::data::read_dataset_bytes(&bytes, p)?, p.display().to_string())
        }
        None => (amr_core::demo::demo_dataset()?, amr_core::demo::DEMO_NAME.to_string()),
    };
    let settings_path = args.settings.clone().or_else(default_settings_path);
    let mut settings = settings_path.as_deref().map(read_settings).unwrap_or_default();
    if let Some(t) = &args.tab {
        settings.tab = match t.as_str() {
            "explore" => Tab::Explore,
            "train" => Tab::Train,
            "reconstruct" => Tab::Reconstruct,
            "learn" => Tab::Learn,
            other => anyhow::bail!("--tab {other}: expected explore, learn, train or reconstruct"),
        };
    }
    if let Some(d) = &args.run_dir {
        settings.run_dir.clone_from(d);
    }
    let sink: ReportSink = Arc::new(Mutex::new(None));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1280.0, 800.0]).with_title("AMR"),
        ..Default::default()
    };
    let checkpoint = match &args.checkpoint {
        Some(p) => {
            Some((std::fs::read(p).with_context(|| format!("reading {}", p.display()))?, p.display().to_string()))
        }
        None => None,
    };
    let device = args.device;
    let report = args.report.clone();
    let export_dir = args.export_dir.clone();
    eframe::run_native(
        "AMR",
        options,
        Box::new(move |cc| {
            let runner = crate::worker::ThreadRunner::spawn(device, Some(cc.egui_ctx.clone()))?;
            let mut app =
                AmrApp::new(dataset, &name, sink.clone()).with_settings(settings).with_runner(Box::new(runner));
            match &checkpoint {
                Some((bytes, path)) => app.load_checkpoint_bytes(bytes, path),
                None => match amr_core::demo::demo_model() {
                    Ok(c) => app.set_default_checkpoint(c),
                    Err(e) => app.notify(e.to_string()),
                },
            }
            Ok(Box::new(Shell::new(app, sink, report, settings_path, export_dir)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        let sink: ReportSink = Arc::new(Mutex::new(None));
        let app = AmrApp::new(amr_core::demo::demo_dataset().unwrap(), "demo", sink.clone());
        Shell::new(app, sink, None, None, PathBuf::from("exports"))
    }

    fn message(s: &Shell) -> String {
        s.app.message().to_string()
    }

    #[test]
    fn opened_and_dropped_files_go_where_their_kind_says_and_bad_ones_are_named() {
        let mut s = shell();
        let bvh = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/bandai2-bvh/dataset-2_run_normal_001.bvh");
        s.open_path(&bvh, Purpose::Data);
        assert_eq!(s.app.dataset().len(), 1, "{}", message(&s));
        assert!(s.app.shown_sequence().frames > 10);
        // A damaged BVH is named and the open dataset stays.
        s.open_bytes(b"HIERARCHY\nROOT Hips\n{\n", Path::new("/tmp/bad.bvh"), None);
        assert!(message(&s).contains("bad.bvh"), "{}", message(&s));
        assert_eq!(s.app.dataset().len(), 1);
        // A dropped TOML file is a run config; a wrong value names the field.
        s.open_bytes(b"batch_size = 0\n", Path::new("run.toml"), None);
        assert!(message(&s).contains("run.toml") && message(&s).contains("batch_size"), "{}", message(&s));
        // A dropped checkpoint feeds the reconstruction view.
        let mut cfg = amr_core::pretrain::PretrainConfig::demo();
        cfg.model = cfg.model.with_dim(16).with_heads(2).with_mlp(32).with_encoder_depth(1).with_decoder_depth(1);
        let model = cfg.model.init(&amr_core::backend::cpu_device());
        let ckpt: amr_core::pretrain::Checkpoint = amr_core::pretrain::Checkpoint {
            config: cfg,
            model: amr_core::model::named_params(&model),
            optimizer: Default::default(),
            state: None,
        };
        s.open_bytes(&ckpt.to_bytes().unwrap(), Path::new("model.safetensors"), None);
        assert!(message(&s).starts_with("checkpoint"), "{}", message(&s));
        assert_eq!(s.app.dataset().len(), 1, "a checkpoint is not a dataset");
    }
}
