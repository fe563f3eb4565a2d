//! amr-web: the AMR App in the browser. `start` runs when the page loads the module: it picks the
//! compute backend (WebGPU on egui's device, or burn's CPU backend), paints the embedded first clips
//! at once, fetches the demo subset beside the page, trains (on the CPU backend in a Web Worker that
//! loads the same module and calls `worker_start`), and reports its state in `#amr-status` (JSON,
//! for people and tests).

pub mod compute;
pub mod pacer;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod runner;
#[cfg(target_arch = "wasm32")]
mod shell;
#[cfg(target_arch = "wasm32")]
mod training;
pub mod wire;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::{Arc, Mutex};

    use wasm_bindgen::prelude::*;

    use crate::shell::{Inbox, InboxQueue, WebShell};
    use crate::{compute, page};

    /// The demo subset the page fetches after its first paint (copied next to the page by build.sh).
    const DEMO_URL: &str = "bandai2_web.safetensors";

    /// The device the page starts on: egui's WebGPU device when the plan is WebGPU and it can (and
    /// may: `share`) be shared, the CPU backend otherwise. When WebGPU is wanted but egui's device cannot be shared,
    /// burn's own WebGPU device is requested in the background and arrives through the inbox.
    fn pick_compute(
        plan: &compute::Plan,
        adapter: Option<&compute::Adapter>,
        share: bool,
        cc: &eframe::CreationContext<'_>,
        inbox: &InboxQueue,
    ) -> compute::Compute {
        let Some(adapter) = adapter.filter(|_| plan.webgpu) else {
            return compute::Compute::cpu(&plan.reason);
        };
        let shared = if share {
            compute::egui_device(cc.wgpu_render_state.as_ref(), adapter)
        } else {
            Err("the page was asked not to share (?share=0)".to_string())
        };
        match shared {
            Ok(c) => c,
            Err(why) => {
                let (inbox, ctx, adapter) = (Arc::clone(inbox), cc.egui_ctx.clone(), adapter.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let got = compute::own_device(&adapter, &why).await;
                    if let Ok(mut q) = inbox.lock() {
                        q.push(Inbox::Compute(got));
                    }
                    ctx.request_repaint();
                });
                compute::Compute::cpu("until burn's own WebGPU device is ready")
            }
        }
    }

    /// Stops the module with a panic carrying `message`: how the page's panic report (status and
    /// banner, [`page::install_panic_hook`]) is checked in a real browser. The page exposes it as
    /// `window.amrStopWithPanic`.
    #[wasm_bindgen]
    #[expect(clippy::panic, reason = "the one deliberate panic: it exercises the panic hook")]
    pub fn stop_with_panic(message: &str) {
        panic!("{message}");
    }

    /// Entry point: starts the App on `#the_canvas_id`. In the training worker (no window) it does
    /// nothing: `worker.js` calls `worker_start` there.
    #[wasm_bindgen(start)]
    pub fn start() {
        if web_sys::window().is_none() {
            return;
        }
        page::install_panic_hook();
        wasm_bindgen_futures::spawn_local(async {
            let dataset = match amr_core::demo::demo_dataset() {
                Ok(d) => d,
                Err(e) => return page::status(&format!("error: {e}"), false),
            };
            let Some(canvas) = page::canvas() else {
                return page::status("error: no canvas #the_canvas_id in the page", false);
            };
            let query = page::query();
            let (choice, bad_query) = match compute::Choice::from_query(&query) {
                Ok(c) => (c, None),
                Err(e) => (compute::Choice::Auto, Some(e)),
            };
            let switches = compute::Switches::from_query(&query);
            let adapter = compute::probe().await;
            let mut plan = compute::decide(choice, adapter.as_ref());
            // A bad `?backend=` is named where the choice is shown.
            if let Some(e) = bad_query {
                plan.reason = format!("{e}: {}", plan.reason);
            }
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
                    compute::web_options(&plan),
                    Box::new(move |cc| {
                        let ctx = cc.egui_ctx.clone();
                        let computing = pick_compute(&plan, adapter.as_ref(), switches.share, cc, &inbox);
                        // The rest of the demo data arrives after the first paint, then the shipped model.
                        wasm_bindgen_futures::spawn_local(async move {
                            let item = match page::fetch_bytes(DEMO_URL).await {
                                Ok(bytes) => Inbox::File { name: DEMO_URL.into(), bytes, demo: true },
                                Err(e) => Inbox::DemoFailed(e),
                            };
                            if let Ok(mut q) = fetched.lock() {
                                q.push(item);
                            }
                            ctx.request_repaint();
                            let model = amr_core::demo::MODEL_FILE;
                            let item = Inbox::Model { name: model.into(), bytes: page::fetch_bytes(model).await };
                            if let Ok(mut q) = fetched.lock() {
                                q.push(item);
                            }
                            ctx.request_repaint();
                        });
                        Ok(Box::new(WebShell::new(
                            dataset,
                            &cc.egui_ctx,
                            inbox,
                            computing,
                            switches,
                            adapter,
                            plan.reason,
                        )))
                    }),
                )
                .await;
            if let Err(e) = started {
                page::status(&format!("error: {e:?}"), false);
            }
        });
    }
}
