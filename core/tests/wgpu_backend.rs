//! One burn training step path on two backends: the same seeded tiny model trained with AdamW on
//! the CPU (`flex`) and on wgpu (lavapipe in CI) gives the same losses within 1e-4 relative.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use amr_core::backend::{cpu_device, gpu_device};
use amr_core::tiny_train::tiny_training_run;

#[test]
fn cpu_and_wgpu_training_losses_agree() {
    let steps = 8;
    let cpu = tiny_training_run(&cpu_device(), steps, 3);
    let gpu = tiny_training_run(&gpu_device(), steps, 3);
    eprintln!("cpu {cpu:?}\nwgpu {gpu:?}");
    for (s, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        assert!((a - b).abs() <= 1e-4 * a.abs().max(1e-3), "step {s}: cpu {a} wgpu {b}");
    }
    assert!(cpu[steps - 1] < cpu[0]);
}

#[test]
fn a_wgpu_device_shared_with_a_renderer_trains_like_the_cpu() {
    // What the web app does with egui's device: the renderer creates the device with the
    // descriptor burn needs, then registers it with burn.
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default())).unwrap();
    let desc = amr_core::backend::compute_device_descriptor(&adapter);
    let (device, queue) = pollster::block_on(adapter.request_device(&desc)).unwrap();
    let shared = amr_core::backend::shared_wgpu_device(instance, adapter, device, queue).unwrap();
    let steps = 4;
    let cpu = tiny_training_run(&cpu_device(), steps, 5);
    let gpu = tiny_training_run(&shared, steps, 5);
    for (s, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        assert!((a - b).abs() <= 1e-4 * a.abs().max(1e-3), "step {s}: cpu {a} shared wgpu {b}");
    }
}
