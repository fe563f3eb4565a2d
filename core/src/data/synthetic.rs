//! Synthetic skeleton sequences (seeded random walks on a layout's bones) for benchmarks and tests
//! where the motion content does not matter, only the shapes and a plausible spread of energies.

use super::{Dataset, Sequence};
use crate::rng::SeededRng;
use crate::skeleton::Layout;

/// `n` sequences of `frames` frames and `persons` persons on `layout`: every joint sits at its
/// parent's position plus a 10 cm offset and drifts by a random walk with a per-joint speed.
pub fn synthetic_dataset(layout: &Layout, n: usize, frames: usize, persons: usize, seed: u64) -> Dataset {
    let v = layout.joint_count();
    let mut rng = SeededRng::new(seed);
    // Parents before children, whatever the joint numbering.
    let mut order: Vec<usize> = (0..v).filter(|&j| layout.parents[j].is_none()).collect();
    let mut k = 0;
    while k < order.len() {
        let p = order[k];
        order.extend((0..v).filter(|&j| layout.parents[j] == Some(p)));
        k += 1;
    }
    let mut ds = Dataset::new(layout.clone(), persons, 30.0);
    ds.source = "synthetic random walks".into();
    ds.label_names = vec!["synthetic".into()];
    for i in 0..n {
        let mut pos = vec![0.0f32; frames * persons * v * 3];
        for m in 0..persons {
            let offsets: Vec<[f64; 3]> = (0..v).map(|_| [0; 3].map(|_| 0.1 * rng.normal())).collect();
            let speed: Vec<f64> = (0..v).map(|_| 0.002 + 0.02 * rng.uniform()).collect();
            let mut drift = vec![[0.0f64; 3]; v];
            for t in 0..frames {
                for &j in &order {
                    for d in &mut drift[j] {
                        *d += speed[j] * rng.normal();
                    }
                    let base = layout.parents[j].map_or([0.0; 3], |p| {
                        let k = ((t * persons + m) * v + p) * 3;
                        [pos[k] as f64, pos[k + 1] as f64, pos[k + 2] as f64]
                    });
                    let k = ((t * persons + m) * v + j) * 3;
                    for c in 0..3 {
                        pos[k + c] = (base[c] + offsets[j][c] + drift[j][c]) as f32;
                    }
                }
            }
        }
        ds.sequences.push(Sequence::new(format!("synthetic-{i}"), 0, frames, persons, v, pos));
    }
    ds
}
