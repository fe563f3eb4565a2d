//! The WGSL focal-weight kernel against the CPU reference, on whatever wgpu adapter the machine has
//! (Mesa's lavapipe in CI): 1e-5 relative on random clips and on real Bandai clips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use amr_core::data::{Sequence, clip, load_amr_skeleton};
use amr_core::focal::{FocalConfig, Fusion, focal_weights};
use amr_core::gpu::FocalKernel;
use amr_core::rng::SeededRng;

fn kernel() -> FocalKernel {
    pollster::block_on(FocalKernel::new())
        .unwrap_or_else(|e| panic!("{e}: install a Vulkan driver (Debian: mesa-vulkan-drivers)"))
}

fn close(gpu: f32, cpu: f32) -> bool {
    (gpu - cpu).abs() <= 1e-5 * cpu.abs().max(1e-6)
}

fn check(k: &FocalKernel, clips: &[Sequence], cfg: &FocalConfig) {
    let out = k.compute_blocking(clips, cfg).unwrap();
    let (t, m, v) = (clips[0].frames, clips[0].persons, clips[0].joints);
    let mut worst = 0.0f32;
    for (b, c) in clips.iter().enumerate() {
        let cpu = focal_weights(c, cfg);
        for p in 0..m {
            let person = b * m + p;
            let mut at = 0;
            for (s, sc) in cpu.scales.iter().enumerate() {
                assert!(close(out.threshold[person * cfg.windows.len() + s], sc.threshold[p]), "threshold");
                for i in 0..sc.windows * v {
                    let (ge, ce) = (out.energy[person * out.row + at + i], sc.energy[p * sc.windows * v + i]);
                    let (gw, cw) = (out.weight[person * out.row + at + i], sc.weight[p * sc.windows * v + i]);
                    assert!(close(ge, ce), "energy {ge} vs {ce}");
                    assert!(close(gw, cw), "weight {gw} vs {cw} (clip {b}, person {p}, scale {s}, entry {i})");
                }
                at += sc.windows * v;
            }
            for tt in 0..t {
                for j in 0..v {
                    let (g, c) = (out.fused[((b * t + tt) * m + p) * v + j], cpu.fused_at(tt, p, j));
                    assert!(close(g, c), "fused {g} vs {c}");
                    worst = worst.max((g - c).abs() / c.abs().max(1e-6));
                }
            }
        }
    }
    eprintln!("{} clips on {}: worst relative difference of fused weights {worst:e}", clips.len(), k.adapter.name);
}

#[test]
fn kernel_matches_cpu_on_random_and_real_clips() {
    let k = kernel();
    let mut rng = SeededRng::new(42);
    // Random clips, two persons (the second absent in clip 1), a length that 8 and 12 do not divide.
    let clips: Vec<Sequence> = (0..3)
        .map(|b| {
            let mut pos: Vec<f32> = (0..50 * 2 * 7 * 3).map(|_| rng.uniform_range(-1.0, 1.0) as f32).collect();
            if b == 1 {
                for t in 0..50 {
                    pos[(t * 2 + 1) * 21..(t * 2 + 2) * 21].fill(0.0);
                }
            }
            Sequence::new("rand", 0, 50, 2, 7, pos)
        })
        .collect();
    check(&k, &clips, &FocalConfig::default());
    check(&k, &clips, &FocalConfig { windows: vec![3, 5], k: 0.3, eps: 1e-6, fusion: Fusion::Max });

    // Real Bandai clips: the embedded demo set, resized to T = 120 as training sees them.
    let ds =
        load_amr_skeleton(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/bandai2_demo.safetensors")).unwrap();
    let cfg = clip::ClipConfig::default();
    let real: Vec<Sequence> = (0..16).map(|i| clip::test_clip(&ds.sequences[i * 13 % ds.len()], &cfg)).collect();
    check(&k, &real, &FocalConfig::default());
}
