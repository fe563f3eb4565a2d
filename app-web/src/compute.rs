//! Where the page trains and reconstructs: WebGPU through burn's wgpu backend, on egui's own device
//! when egui draws with WebGPU, or burn's CPU backend compiled to WebAssembly. The choice comes from
//! the page's `?backend=` parameter (`auto`, `webgpu`, `cpu`); `auto` takes WebGPU only on a hardware
//! adapter, since a software one (SwiftShader) trains about a hundred times slower than the CPU
//! backend. Every device read-back on this path is awaited: nothing blocks the page.

/// The backend the page was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// WebGPU on a hardware adapter, else the CPU.
    #[default]
    Auto,
    /// WebGPU on whatever adapter the browser offers.
    WebGpu,
    /// burn's CPU backend.
    Cpu,
}

/// The value of `key` in a URL query (`?a=1&backend=webgpu`).
fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find_map(|(k, v)| (k == key).then_some(v))
}

/// The page's switches, on unless its URL query says `key=0` (to compare with the way without).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    /// burn may share egui's WebGPU device (`share=0`: burn requests its own).
    pub share: bool,
    /// CPU runs may train in the training worker (`worker=0`: on the page's thread).
    pub worker: bool,
    /// The page paces a run that trains beside it, [`crate::pacer`] (`pace=0`: full speed).
    pub pace: bool,
}

impl Switches {
    /// Reads the switches from a URL query.
    pub fn from_query(query: &str) -> Self {
        let on = |key| query_value(query, key) != Some("0");
        Self { share: on("share"), worker: on("worker"), pace: on("pace") }
    }
}

impl Choice {
    /// Reads `backend=` from a URL query; absent means [`Choice::Auto`].
    pub fn from_query(query: &str) -> Result<Self, String> {
        match query_value(query, "backend") {
            None | Some("auto") => Ok(Self::Auto),
            Some("webgpu") => Ok(Self::WebGpu),
            Some("cpu") => Ok(Self::Cpu),
            Some(other) => Err(format!("?backend={other}: expected auto, webgpu or cpu; using auto")),
        }
    }
}

/// What the browser says about its WebGPU adapter (`GPUAdapterInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Adapter {
    /// `vendor`, e.g. "nvidia", "google".
    pub vendor: String,
    /// `architecture`, e.g. "ampere", "swiftshader".
    pub architecture: String,
    /// `description` (often empty).
    pub description: String,
    /// `isFallbackAdapter`: the browser's own software implementation.
    pub fallback: bool,
}

impl Adapter {
    /// Whether the adapter rasterises on the CPU (SwiftShader, lavapipe/llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        let text = format!("{} {} {}", self.vendor, self.architecture, self.description).to_ascii_lowercase();
        self.fallback
            || ["swiftshader", "llvmpipe", "lavapipe", "basic render", "warp"].iter().any(|s| text.contains(s))
    }

    /// A short name for the page.
    pub fn name(&self) -> String {
        let parts: Vec<&str> = [&self.vendor, &self.architecture, &self.description]
            .into_iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() { "unnamed adapter".into() } else { parts.join(" ") }
    }
}

/// The decision: WebGPU or the CPU, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Train and reconstruct on WebGPU.
    pub webgpu: bool,
    /// Why, in words (shown on the page).
    pub reason: String,
}

/// Decides between WebGPU and the CPU for `choice` given the browser's adapter.
pub fn decide(choice: Choice, adapter: Option<&Adapter>) -> Plan {
    let plan = |webgpu: bool, reason: String| Plan { webgpu, reason };
    match (choice, adapter) {
        (Choice::Cpu, _) => plan(false, "asked for with ?backend=cpu".into()),
        (_, None) => plan(false, "the browser offers no WebGPU adapter".into()),
        (Choice::WebGpu, Some(a)) => plan(true, format!("asked for with ?backend=webgpu on {}", a.name())),
        (Choice::Auto, Some(a)) if a.is_software() => plan(
            false,
            format!(
                "the WebGPU adapter ({}) is a software one, slower than the CPU; ?backend=webgpu uses it",
                a.name()
            ),
        ),
        (Choice::Auto, Some(a)) => plan(true, format!("hardware WebGPU adapter {}", a.name())),
    }
}

/// The device the page computes on, with its description.
#[derive(Debug, Clone)]
pub struct Compute {
    /// burn's device.
    pub device: amr_core::backend::Device,
    /// `"webgpu"` or `"cpu"`.
    pub kind: &'static str,
    /// What runs, in words.
    pub label: String,
}

impl Compute {
    /// burn's CPU backend, for `reason`.
    pub fn cpu(reason: &str) -> Self {
        Self {
            device: amr_core::backend::cpu_device(),
            kind: "cpu",
            label: format!("cpu: burn flex in WebAssembly ({reason})"),
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use web::{egui_device, own_device, probe, web_options};

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::Arc;

    use eframe::egui_wgpu;
    use wasm_bindgen::{JsCast, JsValue};

    use super::{Adapter, Compute, Plan};

    fn get(o: &JsValue, key: &str) -> JsValue {
        js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Asks `navigator.gpu` for an adapter and reads its info; `None` without WebGPU or adapter.
    pub async fn probe() -> Option<Adapter> {
        let gpu = get(&web_sys::window()?.navigator(), "gpu");
        if gpu.is_undefined() || gpu.is_null() {
            return None;
        }
        let request: js_sys::Function = get(&gpu, "requestAdapter").dyn_into().ok()?;
        let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
        let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
        if adapter.is_null() || adapter.is_undefined() {
            return None;
        }
        let info = get(&adapter, "info");
        let text = |k: &str| get(&info, k).as_string().unwrap_or_default();
        // Chromium moved `isFallbackAdapter` from the adapter into its info.
        let fallback =
            get(&info, "isFallbackAdapter").as_bool().or_else(|| get(&adapter, "isFallbackAdapter").as_bool());
        Some(Adapter {
            vendor: text("vendor"),
            architecture: text("architecture"),
            description: text("description"),
            fallback: fallback.unwrap_or(false),
        })
    }

    /// eframe's options: when the plan is WebGPU, egui's device enables every feature and limit of
    /// its adapter, so burn can compute on it (egui's default device enables none).
    pub fn web_options(plan: &Plan) -> eframe::WebOptions {
        let mut options = eframe::WebOptions::default();
        if plan.webgpu {
            let mut create = egui_wgpu::WgpuSetupCreateNew::without_display_handle();
            let egui_default = Arc::clone(&create.device_descriptor);
            create.device_descriptor = Arc::new(move |adapter: &eframe::wgpu::Adapter| {
                if adapter.get_info().backend == eframe::wgpu::Backend::BrowserWebGpu {
                    amr_core::backend::compute_device_descriptor(adapter)
                } else {
                    egui_default(adapter)
                }
            });
            options.wgpu_options.wgpu_setup = egui_wgpu::WgpuSetup::CreateNew(create);
        }
        options
    }

    /// burn on egui's WebGPU device; an error when egui draws with WebGL or registration fails.
    pub fn egui_device(render: Option<&egui_wgpu::RenderState>, adapter: &Adapter) -> Result<Compute, String> {
        let r = render.ok_or("egui draws without wgpu")?;
        let backend = r.adapter.get_info().backend;
        if backend != eframe::wgpu::Backend::BrowserWebGpu {
            return Err(format!("egui draws with {backend:?}"));
        }
        let device = amr_core::backend::shared_wgpu_device(
            r.instance.clone(),
            r.adapter.clone(),
            r.device.clone(),
            r.queue.clone(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Compute {
            device,
            kind: "webgpu",
            label: format!("webgpu: burn wgpu on egui's device ({})", adapter.name()),
        })
    }

    /// burn's own WebGPU device (when egui's cannot be shared).
    pub async fn own_device(adapter: &Adapter, why_not_shared: &str) -> Result<Compute, String> {
        let device = amr_core::backend::wgpu_device_async().await.map_err(|e| e.to_string())?;
        Ok(Compute {
            device,
            kind: "webgpu",
            label: format!("webgpu: burn wgpu, own device ({}; not egui's: {why_not_shared})", adapter.name()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(vendor: &str, architecture: &str, fallback: bool) -> Adapter {
        Adapter { vendor: vendor.into(), architecture: architecture.into(), description: String::new(), fallback }
    }

    #[test]
    fn the_query_names_the_backend_and_a_bad_one_is_explained() {
        assert_eq!(Choice::from_query(""), Ok(Choice::Auto));
        assert_eq!(Choice::from_query("?x=1&backend=webgpu"), Ok(Choice::WebGpu));
        assert_eq!(Choice::from_query("?backend=cpu"), Ok(Choice::Cpu));
        assert_eq!(Choice::from_query("?backend=auto&x"), Ok(Choice::Auto));
        let on = Switches::from_query;
        assert!(on("?backend=webgpu").share && on("?share=1").share);
        assert!(!on("?backend=webgpu&share=0").share);
        assert!(on("").worker && on("?worker=1").worker);
        assert!(!on("?train&worker=0").worker);
        assert!(on("?worker=0").pace && !on("?fps&pace=0").pace);
        let e = Choice::from_query("?backend=cuda").unwrap_err();
        assert!(e.contains("cuda") && e.contains("expected auto, webgpu or cpu"), "{e}");
    }

    #[test]
    fn auto_takes_webgpu_only_on_a_hardware_adapter() {
        let hw = adapter("nvidia", "ampere", false);
        let swiftshader = adapter("google", "swiftshader", false);
        let fallback = adapter("", "", true);
        assert!(decide(Choice::Auto, Some(&hw)).webgpu);
        assert!(!decide(Choice::Auto, Some(&swiftshader)).webgpu);
        assert!(decide(Choice::Auto, Some(&swiftshader)).reason.contains("software"));
        assert!(!decide(Choice::Auto, Some(&fallback)).webgpu);
        assert!(decide(Choice::WebGpu, Some(&swiftshader)).webgpu, "asked for, a software adapter is used");
        assert!(!decide(Choice::WebGpu, None).webgpu, "no adapter, no WebGPU");
        assert!(!decide(Choice::Cpu, Some(&hw)).webgpu);
        assert_eq!(hw.name(), "nvidia ampere");
        assert_eq!(fallback.name(), "unnamed adapter");
    }
}
