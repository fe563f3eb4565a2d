//! One skeleton sequence: T frames of M persons with V joints in metres.

use std::collections::BTreeMap;

/// A variable-length skeleton sequence, positions laid out as [T, M, V, 3] (row-major), metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// Sample name (e.g. a take's file stem); may be empty.
    pub name: String,
    /// 0-based class index, -1 = unlabelled.
    pub label: i64,
    /// Number of frames T.
    pub frames: usize,
    /// Number of persons M (an absent person is all zeros).
    pub persons: usize,
    /// Number of joints V.
    pub joints: usize,
    /// Joint positions, length T * M * V * 3.
    pub positions: Vec<f32>,
    /// Per-sequence integer attributes (`subject`, `split`, `style`, `take`, ...; -1 = unknown).
    pub attributes: BTreeMap<String, i64>,
}

impl Sequence {
    /// A sequence from positions laid out [frames, persons, joints, 3].
    ///
    /// # Shapes
    /// `positions`: [frames * persons * joints * 3]
    pub fn new(
        name: impl Into<String>,
        label: i64,
        frames: usize,
        persons: usize,
        joints: usize,
        positions: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(positions.len(), frames * persons * joints * 3);
        Self { name: name.into(), label, frames, persons, joints, positions, attributes: BTreeMap::new() }
    }

    /// Index into `positions` of coordinate `c` of joint `v` of person `m` at frame `t`.
    #[inline]
    pub fn index(&self, t: usize, m: usize, v: usize, c: usize) -> usize {
        ((t * self.persons + m) * self.joints + v) * 3 + c
    }

    /// The xyz of one joint.
    #[inline]
    pub fn joint(&self, t: usize, m: usize, v: usize) -> [f32; 3] {
        let i = self.index(t, m, v, 0);
        [self.positions[i], self.positions[i + 1], self.positions[i + 2]]
    }

    /// Values per frame (M * V * 3).
    pub fn frame_len(&self) -> usize {
        self.persons * self.joints * 3
    }

    /// Whether person `m` is present in frame `t` (not all zeros).
    pub fn person_present(&self, t: usize, m: usize) -> bool {
        let i = self.index(t, m, 0, 0);
        self.positions[i..i + self.joints * 3].iter().any(|&x| x != 0.0)
    }

    /// Whether person `m` is all zeros in every frame (absent).
    pub fn person_absent(&self, m: usize) -> bool {
        !(0..self.frames).any(|t| self.person_present(t, m))
    }

    /// Keeps every `step`-th frame starting at frame 0.
    pub fn every_nth_frame(&self, step: usize) -> Self {
        let step = step.max(1);
        let fl = self.frame_len();
        let positions: Vec<f32> =
            (0..self.frames).step_by(step).flat_map(|t| self.positions[t * fl..(t + 1) * fl].iter().copied()).collect();
        let frames = positions.len() / fl.max(1);
        Self { positions, frames, ..self.clone() }
    }
}
