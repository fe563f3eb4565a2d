//! The pretraining trainer on two backends and with two sources of focal weights: steps on the CPU
//! backend (`flex`) and on wgpu (lavapipe in CI) give the same losses, and focal weights from the
//! WGSL kernel give the same loss as the CPU reference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use amr_core::backend::{cpu_device, gpu_device};
use amr_core::data::{Dataset, clip::ClipConfig, read_amr_skeleton};
use amr_core::gpu::FocalKernel;
use amr_core::model::AmrConfig;
use amr_core::pretrain::{BatchConfig, LossRegion, PretrainConfig, Trainer, focal_loss, gpu_focal_weights, make_batch};
use amr_core::rng::SeededRng;
use burn::prelude::*;
use burn::tensor::TensorData;

fn demo() -> Dataset {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/bandai2_web.safetensors")).unwrap();
    read_amr_skeleton(&bytes, std::path::Path::new("web")).unwrap()
}

fn tiny() -> PretrainConfig {
    PretrainConfig {
        model: AmrConfig::new()
            .with_joints(21)
            .with_dim(32)
            .with_heads(2)
            .with_mlp(64)
            .with_encoder_depth(1)
            .with_decoder_depth(1),
        batch_size: 4,
        seed: 11,
        ..Default::default()
    }
}

#[test]
fn trainer_steps_on_cpu_and_wgpu_agree() {
    let ds = demo();
    let mut cfg = tiny();
    cfg.schedule.warmup_epochs = 0.0; // a non-zero learning rate from the first step
    let run = |device: &Device| {
        let mut t = Trainer::new(cfg.clone(), ds.len(), device).unwrap();
        (0..3).map(|_| t.step(&ds).unwrap().loss).collect::<Vec<f32>>()
    };
    let cpu = run(&cpu_device());
    let gpu = run(&gpu_device());
    eprintln!("cpu {cpu:?}\nwgpu {gpu:?}");
    for (s, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        assert!((a - b).abs() <= 1e-4 * a.abs(), "step {}: cpu {a} wgpu {b}", s + 1);
    }
}

#[test]
fn kernel_focal_weights_give_the_cpu_loss() {
    let ds = demo();
    let kernel = pollster::block_on(FocalKernel::new()).expect("a wgpu adapter (Debian: mesa-vulkan-drivers)");
    let dev = cpu_device();
    for region in [LossRegion::All, LossRegion::Masked] {
        let cfg = tiny();
        let bcfg = BatchConfig { loss_region: region, ..Default::default() };
        let cpu = make_batch(&ds, &[0, 9, 21, 33], &ClipConfig::default(), &bcfg, &cfg.model, &mut SeededRng::new(8))
            .unwrap();
        let mut gpu = cpu.clone();
        assert!(gpu_focal_weights(&kernel, &mut gpu, &bcfg, &cfg.model).unwrap());
        assert_eq!(gpu.weight.len(), cpu.weight.len());
        let worst =
            cpu.weight.iter().zip(&gpu.weight).map(|(a, b)| (a - b).abs() / a.abs().max(1e-6)).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "weights differ by {worst} relative");
        // The loss of one model prediction against the targets, weighted each way.
        let model = cfg.model.init_seeded(&dev, 1);
        let p = cpu.persons;
        let x = Tensor::<4>::from_data(TensorData::new(cpu.x.clone(), [p, 120, 21, 3]), &dev);
        let keep = Tensor::<2, Int>::from_data(TensorData::new(cpu.keep.clone(), [p, cpu.visible()]), &dev);
        let pred = model.forward_pretrain(x, keep, None, None).unwrap();
        let shape = pred.dims();
        let t = Tensor::<3>::from_data(TensorData::new(cpu.target.clone(), shape), &dev);
        let loss = |w: &[f32]| {
            focal_loss(pred.clone(), t.clone(), Tensor::<3>::from_data(TensorData::new(w.to_vec(), shape), &dev))
                .into_scalar::<f32>()
        };
        let (a, b) = (loss(&cpu.weight), loss(&gpu.weight));
        eprintln!("{region:?}: worst weight difference {worst:e}; loss cpu {a} gpu {b}");
        assert!((a - b).abs() <= 1e-5 * a.abs(), "{region:?}: loss cpu {a} vs gpu {b}");
    }
}
