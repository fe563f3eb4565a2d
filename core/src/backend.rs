//! Choosing the compute device: burn's `flex` CPU backend or its wgpu backend.

use burn::prelude::*;

use crate::error::ConfigError;

/// burn's run-time device handle (CPU, wgpu, ...), re-exported for the front ends.
pub use burn::prelude::Device;

/// Which device the user asked for (`--device auto|gpu|cpu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A hardware GPU if there is one, else the CPU. Software adapters (lavapipe, SwiftShader) are
    /// never picked automatically: they are slower than the CPU backend.
    #[default]
    Auto,
    /// burn's wgpu backend on the default adapter, whatever it is.
    Gpu,
    /// burn's `flex` CPU backend.
    Cpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "gpu" => Ok(Self::Gpu),
            "cpu" => Ok(Self::Cpu),
            other => Err(format!("device `{other}`: expected auto, gpu or cpu")),
        }
    }
}

/// burn's CPU device.
pub fn cpu_device() -> Device {
    Device::flex()
}

/// burn's wgpu device on the default adapter.
pub fn gpu_device() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

/// The name of a hardware (non-software) GPU adapter, if wgpu finds one.
#[cfg(not(target_arch = "wasm32"))]
pub fn hardware_adapter() -> Option<String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .ok()?;
    let info = adapter.get_info();
    (info.device_type != wgpu::DeviceType::Cpu).then_some(info.name)
}

/// The most devices a step may be spread over.
pub const MAX_DEVICES: usize = 64;

/// Parses a device list (`--devices`, `run.devices`) of `cpu`, `gpu` (wgpu's default adapter) and
/// `gpu:N` (wgpu's N-th discrete GPU) entries, the first the main device; each with a line saying what
/// it is. `field` names the list in errors.
pub fn parse_devices(list: &[String], field: &str) -> Result<Vec<(Device, String)>, ConfigError> {
    if list.len() > MAX_DEVICES {
        return Err(ConfigError::from_message(format!(
            "{field}: {} devices, at most {MAX_DEVICES} expected",
            list.len()
        )));
    }
    list.iter()
        .map(|spec| match spec.trim() {
            "cpu" => Ok((cpu_device(), "cpu (burn flex)".to_string())),
            "gpu" => Ok((gpu_device(), "gpu (burn wgpu, default adapter)".to_string())),
            other => other
                .strip_prefix("gpu:")
                .and_then(|n| n.parse::<usize>().ok())
                .map(|n| (Device::wgpu(DeviceKind::DiscreteGpu(n)), format!("gpu:{n} (burn wgpu, discrete GPU {n})")))
                .ok_or_else(|| {
                    ConfigError::from_message(format!("{field}: device `{other}`: expected cpu, gpu or gpu:N"))
                }),
        })
        .collect()
}

/// Resolves a choice into a device and a line saying what it is.
#[cfg(not(target_arch = "wasm32"))]
pub fn resolve_device(choice: DeviceChoice) -> (Device, String) {
    match choice {
        DeviceChoice::Cpu => (cpu_device(), "cpu (burn flex)".into()),
        DeviceChoice::Gpu => (gpu_device(), "gpu (burn wgpu, default adapter)".into()),
        DeviceChoice::Auto => match hardware_adapter() {
            Some(name) => (gpu_device(), format!("gpu (burn wgpu: {name})")),
            None => (cpu_device(), "cpu (burn flex; no hardware GPU found)".into()),
        },
    }
}

/// burn's own wgpu device on the default adapter, acquired without blocking (the browser's path:
/// WebGPU hands out devices through promises).
pub async fn wgpu_device_async() -> Result<Device, crate::DeviceError> {
    Device::wgpu_options().init_async().await.map_err(|e| crate::DeviceError(e.to_string()))
}

/// What a wgpu device must enable for burn's WGSL kernels: every feature and limit of its adapter
/// (burn compiles its kernels for what the adapter offers). A renderer that wants to share its
/// device with burn creates it with this descriptor.
pub fn compute_device_descriptor(adapter: &wgpu::Adapter) -> wgpu::DeviceDescriptor<'static> {
    wgpu::DeviceDescriptor {
        label: Some("amr render + compute"),
        required_features: adapter.features().difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS),
        required_limits: adapter.limits(),
        memory_hints: wgpu::MemoryHints::MemoryUsage,
        ..Default::default()
    }
}

/// Registers an application's wgpu device (egui's) with burn, so that training and drawing share
/// one device and queue. The device should have been created with [`compute_device_descriptor`].
pub fn shared_wgpu_device(
    instance: wgpu::Instance,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
) -> Result<Device, crate::DeviceError> {
    let backend = adapter.get_info().backend;
    let setup = burn::tensor::wgpu::WgpuSetup { instance, adapter, device, queue, backend };
    Device::wgpu_options().setup(setup).init().map_err(|e| crate::DeviceError(e.to_string()))
}
