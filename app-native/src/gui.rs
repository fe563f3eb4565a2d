//! The desktop window.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use amr_ui::{AmrApp, ReportSink};
use clap::Args;

/// Options of the desktop app.
#[derive(Args, Debug, Default)]
pub struct GuiArgs {
    /// Open this amr-skeleton-v1 file instead of the embedded demo data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Write what the first frames drew (JSON) to this file, for tests and scripts.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Wraps the App to write the draw report once the view has settled.
struct Shell {
    app: AmrApp,
    sink: ReportSink,
    report: Option<PathBuf>,
    frames: u32,
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui, frame);
        self.frames += 1;
        if self.frames == 10
            && let Some(path) = self.report.take()
        {
            let report = self.sink.lock().ok().and_then(|r| r.clone());
            let json = serde_json::to_string_pretty(&report).unwrap_or_default();
            if let Err(e) = amr_core::error::write_atomically(&path, json.as_bytes()) {
                log::error!("cannot write the draw report: {e}");
            }
        }
        if self.report.is_some() {
            ui.ctx().request_repaint();
        }
    }
}

/// Opens the window and runs until it is closed.
pub fn run(args: &GuiArgs) -> anyhow::Result<()> {
    let dataset = match &args.data {
        Some(p) => amr_core::data::load_amr_skeleton(p)?,
        None => amr_ui::demo::demo_dataset()?,
    };
    let sink: ReportSink = Arc::new(Mutex::new(None));
    let app = AmrApp::new(dataset, sink.clone());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1280.0, 800.0]).with_title("AMR"),
        ..Default::default()
    };
    let shell = Shell { app, sink, report: args.report.clone(), frames: 0 };
    eframe::run_native("AMR", options, Box::new(|_cc| Ok(Box::new(shell))))
        .map_err(|e| anyhow::anyhow!("the window failed: {e}"))
}
