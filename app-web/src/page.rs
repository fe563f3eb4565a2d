//! The page around the canvas: the status element, the file input, downloads, the URL fragment,
//! local storage and timers. Every call goes through web-sys and fails soft (a message, no panic).

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn document() -> Option<web_sys::Document> {
    window().and_then(|w| w.document())
}

/// Writes `text` into `#amr-status` and marks the page ready (or not).
pub fn status(text: &str, ready: bool) {
    if let Some(el) = document().and_then(|d| d.get_element_by_id("amr-status")) {
        el.set_text_content(Some(text));
        let _ = el.set_attribute("data-ready", if ready { "1" } else { "0" });
    }
}

/// Installs the page's panic hook: a panic (after which the module is dead) writes its message into
/// `#amr-status` as JSON (`{"panic": ...}`, not ready) and into a banner over the canvas, so the page
/// never freezes silently with a stale status; the console gets it too.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&message));
        status(&serde_json::json!({ "panic": message }).to_string(), false);
        if let Some(d) = document()
            && let Ok(banner) = d.create_element("div")
        {
            banner.set_id("amr-panic");
            let _ = banner.set_attribute(
                "style",
                "position:absolute;top:40%;left:10%;right:10%;padding:12px;background:#5a1d1d;color:#fff;\
                 font:14px sans-serif;border-radius:6px;white-space:pre-wrap",
            );
            banner
                .set_text_content(Some(&format!("AMR stopped on an internal error and must be reloaded:\n{message}")));
            if let Some(body) = d.body() {
                let _ = body.append_child(&banner);
            }
        }
    }));
}

/// The canvas the App draws on.
pub fn canvas() -> Option<web_sys::HtmlCanvasElement> {
    document()?.get_element_by_id("the_canvas_id")?.dyn_into().ok()
}

/// The URL fragment, with its `#`.
pub fn hash() -> String {
    window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// The URL query, with its `?` (empty when there is none).
pub fn query() -> String {
    window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Replaces the URL fragment without a history entry.
pub fn set_hash(fragment: &str) {
    if let Some(h) = window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

/// A value kept in the browser's local storage.
pub fn load(key: &str) -> Option<String> {
    window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Keeps a value in local storage (quietly does nothing where storage is off).
pub fn store(key: &str, value: &str) {
    if let Some(s) = window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, value);
    }
}

/// Whether the browser offers WebGPU (`navigator.gpu`).
pub fn has_webgpu() -> bool {
    window().is_some_and(|w| js_sys::Reflect::has(&w.navigator(), &JsValue::from_str("gpu")).unwrap_or(false))
}

/// Milliseconds since the page started.
pub fn now_ms() -> f64 {
    window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Resolves after `ms` milliseconds (0: at the next turn of the event loop), letting the page draw
/// (or, in the training worker, its messages arrive). It uses the global `setTimeout`, which the
/// page's window and a worker's scope both have.
pub async fn sleep(ms: i32) {
    let global = js_sys::global();
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .and_then(|f| f.dyn_into::<js_sys::Function>())
        {
            let _ = set_timeout.call2(&global, &resolve, &JsValue::from(ms));
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Offers `bytes` as a file download named `name`.
pub fn download(bytes: &[u8], name: &str, mime: &str) -> Result<(), String> {
    let err = |e: JsValue| format!("download of {name}: {e:?}");
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let doc = document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement =
        doc.create_element("a").map_err(err)?.dyn_into().map_err(|_| "not an anchor")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Encodes an egui screenshot as PNG through an offscreen 2D canvas and offers it as a download.
pub fn download_png(image: &egui::ColorImage, name: &str) -> Result<(), String> {
    let err = |e: JsValue| format!("saving {name}: {e:?}");
    let [w, h] = image.size;
    let doc = document().ok_or("no document")?;
    let c: web_sys::HtmlCanvasElement =
        doc.create_element("canvas").map_err(err)?.dyn_into().map_err(|_| "not a canvas")?;
    c.set_width(w as u32);
    c.set_height(h as u32);
    let ctx: web_sys::CanvasRenderingContext2d =
        c.get_context("2d").map_err(err)?.ok_or("no 2d context")?.dyn_into().map_err(|_| "not a 2d context")?;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|p| p.to_srgba_unmultiplied()).collect();
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), w as u32, h as u32)
        .map_err(err)?;
    ctx.put_image_data(&data, 0.0, 0.0).map_err(err)?;
    let url = c.to_data_url_with_type("image/png").map_err(err)?;
    let a: web_sys::HtmlAnchorElement =
        doc.create_element("a").map_err(err)?.dyn_into().map_err(|_| "not an anchor")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    Ok(())
}

/// Calls `on_file(name, bytes)` whenever the user picks a file in `#amr-file`.
pub fn on_file_input(on_file: impl Fn(String, Vec<u8>) + 'static) {
    let Some(input) = document()
        .and_then(|d| d.get_element_by_id("amr-file"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let on_file = std::rc::Rc::new(on_file);
    let target = input.clone();
    let closure = Closure::<dyn FnMut()>::new(move || {
        let Some(file) = target.files().and_then(|f| f.get(0)) else { return };
        let on_file = std::rc::Rc::clone(&on_file);
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buf) => on_file(name, js_sys::Uint8Array::new(&buf).to_vec()),
                Err(e) => status(&format!("error: reading {name}: {e:?}"), true),
            }
        });
    });
    let _ = input.add_event_listener_with_callback("change", closure.as_ref().unchecked_ref());
    closure.forget();
}

/// Opens the file picker (the App's "Open data…").
pub fn pick_file() {
    if let Some(input) =
        document().and_then(|d| d.get_element_by_id("amr-file")).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        input.click();
    }
}

/// Fetches a file next to the page.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let w = window().ok_or("no window")?;
    let resp =
        wasm_bindgen_futures::JsFuture::from(w.fetch_with_str(url)).await.map_err(|e| format!("{url}: {e:?}"))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let buf = wasm_bindgen_futures::JsFuture::from(resp.array_buffer().map_err(|e| format!("{url}: {e:?}"))?)
        .await
        .map_err(|e| format!("{url}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}
