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
