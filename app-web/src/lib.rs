//! amr-web: the AMR App in the browser. `start` runs when the page loads the module; the page's
//! `#amr-status` element reports readiness and what was drawn (for people and for tests).

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::{Arc, Mutex};

    use amr_ui::{AmrApp, DrawReport, ReportSink};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    fn status(text: &str, ready: bool) {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        if let Some(el) = doc.get_element_by_id("amr-status") {
            el.set_text_content(Some(text));
            let _ = el.set_attribute("data-ready", if ready { "1" } else { "0" });
        }
    }

    struct WebShell {
        app: AmrApp,
        sink: ReportSink,
        last: Option<DrawReport>,
    }

    impl eframe::App for WebShell {
        fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
            self.app.ui(ui, frame);
            let report = self.sink.lock().ok().and_then(|r| r.clone());
            // The page's status changes only when what is drawn changes: serialise then, not every frame.
            if report.is_some() && report != self.last {
                status(&serde_json::to_string(&report).unwrap_or_default(), true);
                self.last = report;
            }
        }
    }

    /// Entry point: loads the embedded demo data and starts the App on `#the_canvas_id`.
    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            let dataset = match amr_ui::demo::demo_dataset() {
                Ok(d) => d,
                Err(e) => return status(&format!("error: {e}"), false),
            };
            let Some(canvas) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("the_canvas_id"))
                .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            else {
                return status("error: no canvas #the_canvas_id in the page", false);
            };
            let sink: ReportSink = Arc::new(Mutex::new(None));
            let shell = WebShell { app: AmrApp::new(dataset, amr_ui::demo::DEMO_NAME, sink.clone()), sink, last: None };
            let started = eframe::WebRunner::new()
                .start(canvas, eframe::WebOptions::default(), Box::new(|_cc| Ok(Box::new(shell))))
                .await;
            if let Err(e) = started {
                status(&format!("error: {e:?}"), false);
            }
        });
    }
}
