//! amr-web: the AMR App in the browser. `start` runs when the page loads the module: it paints the
//! embedded first clips at once, fetches the demo subset beside the page, trains in the page on
//! burn's CPU backend, and reports its state in `#amr-status` (JSON, for people and tests).

#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod runner;
#[cfg(target_arch = "wasm32")]
mod shell;

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::{Arc, Mutex};

    use wasm_bindgen::prelude::*;

    use crate::page;
    use crate::shell::{Inbox, InboxQueue, WebShell};

    /// The demo subset the page fetches after its first paint (copied next to the page by build.sh).
    const DEMO_URL: &str = "bandai2_web.safetensors";

    /// Entry point: starts the App on `#the_canvas_id`.
    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            let dataset = match amr_ui::demo::demo_dataset() {
                Ok(d) => d,
                Err(e) => return page::status(&format!("error: {e}"), false),
            };
            let Some(canvas) = page::canvas() else {
                return page::status("error: no canvas #the_canvas_id in the page", false);
            };
            let inbox: InboxQueue = Arc::new(Mutex::new(Vec::new()));
            let files = Arc::clone(&inbox);
            page::on_file_input(move |name, bytes| {
                if let Ok(mut q) = files.lock() {
                    q.push(Inbox::File { name, bytes, demo: false });
                }
            });
            let fetched = Arc::clone(&inbox);
            let started = eframe::WebRunner::new()
                .start(
                    canvas,
                    eframe::WebOptions::default(),
                    Box::new(move |cc| {
                        let ctx = cc.egui_ctx.clone();
                        // The rest of the demo data arrives after the first paint.
                        wasm_bindgen_futures::spawn_local(async move {
                            let item = match page::fetch_bytes(DEMO_URL).await {
                                Ok(bytes) => Inbox::File { name: DEMO_URL.into(), bytes, demo: true },
                                Err(e) => Inbox::DemoFailed(e),
                            };
                            if let Ok(mut q) = fetched.lock() {
                                q.push(item);
                            }
                            ctx.request_repaint();
                        });
                        Ok(Box::new(WebShell::new(dataset, &cc.egui_ctx, inbox)))
                    }),
                )
                .await;
            if let Err(e) = started {
                page::status(&format!("error: {e:?}"), false);
            }
        });
    }
}
