//! Host side of `shaders/focal_weights.wgsl`: uploads a batch of clips, runs the kernel, reads back.

use std::borrow::Cow;

use wgpu::util::DeviceExt;

use super::oneshot;
use crate::data::Sequence;
use crate::focal::{FocalConfig, Fusion};

/// The kernel source, embedded at build time.
pub const FOCAL_WGSL: &str = include_str!("../../../shaders/focal_weights.wgsl");
const MAX_SCALES: usize = 8;

/// A GPU failure, or input the kernel cannot take.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter or device could be had.
    #[error("no GPU device: {0}")]
    NoDevice(String),
    /// The clips do not share one shape, or the config has too many window sizes.
    #[error("bad kernel input: {0}")]
    BadInput(String),
    /// Reading the results back failed.
    #[error("GPU readback failed: {0}")]
    Readback(String),
}

/// The kernel's results for a batch of B clips of shape [T, M, V, 3].
#[derive(Debug, Clone, PartialEq)]
pub struct GpuFocal {
    /// Per person (p = b * M + m), per scale, per window and joint: entries of one row are the scales'
    /// [windows_s, V] blocks one after another.
    pub energy: Vec<f32>,
    /// Same layout as `energy`.
    pub weight: Vec<f32>,
    /// Threshold e_t, [B * M, scales].
    pub threshold: Vec<f32>,
    /// Fused weight, [B, T, M, V].
    pub fused: Vec<f32>,
    /// Entries per person in `energy` / `weight`.
    pub row: usize,
}

/// The compiled kernel on one wgpu device.
pub struct FocalKernel {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    /// The adapter that runs it.
    pub adapter: wgpu::AdapterInfo,
}

impl FocalKernel {
    /// Opens the default adapter (any backend wgpu finds; on Linux without a GPU, Mesa's lavapipe)
    /// and compiles the kernel.
    pub async fn new() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("amr-focal"),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        Ok(Self::with_device(device, queue, adapter.get_info()))
    }

    /// Compiles the kernel on a device someone else opened (e.g. the one egui renders with).
    pub fn with_device(device: wgpu::Device, queue: wgpu::Queue, adapter: wgpu::AdapterInfo) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("focal_weights.wgsl"),
            source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(FOCAL_WGSL)),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("focal_weights"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self { device, queue, pipeline, adapter }
    }

    /// Focal weights of a batch of clips that share [T, M, V].
    ///
    /// # Shapes
    /// each clip: [T, M, V, 3] -> fused [B, T, M, V]
    pub async fn compute(&self, clips: &[Sequence], cfg: &FocalConfig) -> Result<GpuFocal, GpuError> {
        let Some(first) = clips.first() else { return Err(GpuError::BadInput("no clips".into())) };
        let (t, m, v) = (first.frames, first.persons, first.joints);
        if let Some(c) = clips.iter().find(|c| (c.frames, c.persons, c.joints) != (t, m, v)) {
            return Err(GpuError::BadInput(format!(
                "clip `{}` is [{}, {}, {}], the first is [{t}, {m}, {v}]",
                c.name, c.frames, c.persons, c.joints
            )));
        }
        cfg.validate().map_err(|e| GpuError::BadInput(e.message))?;
        if cfg.windows.len() > MAX_SCALES {
            return Err(GpuError::BadInput(format!(
                "{} window sizes, the kernel takes at most {MAX_SCALES}",
                cfg.windows.len()
            )));
        }
        let total = clips.len() * m;
        let mut offsets = [0u32; MAX_SCALES];
        let mut row = 0usize;
        for (s, &n) in cfg.windows.iter().enumerate() {
            offsets[s] = row as u32;
            row += t.div_ceil(n) * v;
        }
        let mut windows = [1u32; MAX_SCALES];
        for (s, &n) in cfg.windows.iter().enumerate() {
            windows[s] = n as u32;
        }
        let mut params: Vec<u8> = Vec::with_capacity(112);
        for x in [t, m, v, total, cfg.windows.len(), usize::from(cfg.fusion == Fusion::Max)] {
            params.extend_from_slice(&(x as u32).to_le_bytes());
        }
        params.extend_from_slice(&cfg.k.to_le_bytes());
        params.extend_from_slice(&cfg.eps.to_le_bytes());
        windows.iter().chain(&offsets).for_each(|x| params.extend_from_slice(&x.to_le_bytes()));
        for x in [row as u32, 0, 0, 0] {
            params.extend_from_slice(&x.to_le_bytes());
        }
        let positions: Vec<u8> = clips.iter().flat_map(|c| c.positions.iter().flat_map(|x| x.to_le_bytes())).collect();

        let d = &self.device;
        let init = |label, contents: &[u8], usage| {
            d.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
        };
        let uniform = init("params", &params, wgpu::BufferUsages::UNIFORM);
        let input = init("positions", &positions, wgpu::BufferUsages::STORAGE);
        let sizes = [total * row, total * row, total * cfg.windows.len(), total * t * v];
        let outputs: Vec<wgpu::Buffer> = sizes
            .iter()
            .map(|&n| {
                d.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("focal-out"),
                    size: (n.max(1) * 4) as u64,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let staging_size: u64 = sizes.iter().map(|&n| (n.max(1) * 4) as u64).sum();
        let staging = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("focal-staging"),
            size: staging_size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let layout = self.pipeline.get_bind_group_layout(0);
        let mut entries = vec![
            wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: input.as_entire_binding() },
        ];
        entries.extend(
            outputs
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry { binding: 2 + i as u32, resource: b.as_entire_binding() }),
        );
        let bind = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("focal"),
            layout: &layout,
            entries: &entries,
        });
        let mut enc = d.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("focal") });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("focal"), timestamp_writes: None });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind, &[]);
            let x = total.min(65_535) as u32;
            let y = total.div_ceil(65_535) as u32;
            pass.dispatch_workgroups(x, y, 1);
        }
        let mut at = 0u64;
        for (b, &n) in outputs.iter().zip(&sizes) {
            let bytes = (n.max(1) * 4) as u64;
            enc.copy_buffer_to_buffer(b, 0, &staging, at, bytes);
            at += bytes;
        }
        self.queue.submit([enc.finish()]);
        let (tx, rx) = oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| tx.send(r));
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        match rx.await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(GpuError::Readback(e.to_string())),
            None => return Err(GpuError::Readback("map callback dropped".into())),
        }
        let floats: Vec<f32> = {
            let view = staging.slice(..).get_mapped_range().map_err(|e| GpuError::Readback(format!("{e:?}")))?;
            view.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        };
        staging.unmap();
        let mut parts = Vec::new();
        let mut start = 0;
        for &n in &sizes {
            parts.push(floats[start..start + n].to_vec());
            start += n.max(1);
        }
        let fused = parts.pop().unwrap_or_default();
        let threshold = parts.pop().unwrap_or_default();
        let weight = parts.pop().unwrap_or_default();
        let energy = parts.pop().unwrap_or_default();
        Ok(GpuFocal { energy, weight, threshold, fused, row })
    }

    /// [`Self::compute`] for native callers that may block.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn compute_blocking(&self, clips: &[Sequence], cfg: &FocalConfig) -> Result<GpuFocal, GpuError> {
        pollster::block_on(self.compute(clips, cfg))
    }
}
