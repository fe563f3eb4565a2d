//! Fixed-length training clips: valid frames, random and centre crops, temporal resize, random
//! rotation (the MAMP feeder, reference spec 1.9) and NAT normalisation.

use super::Sequence;
use crate::math::Mat3;
use crate::rng::SeededRng;

/// How sequences become clips.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipConfig {
    /// Output length T.
    pub frames: usize,
    /// Random crop keeps a share p ~ U(crop_min, crop_max) of the valid frames.
    pub crop_min: f64,
    /// Upper end of the crop share, at most [`MAX_CROP_SHARE`]. A share above 1 takes a window longer
    /// than the valid frames, which then sit at a random place inside it and the window's other
    /// frames hold the first or last pose: resized to `frames`, the movement plays faster and fills
    /// less of the clip, as in a longer recording of a quicker performer. The published feeder
    /// keeps p <= 1, so its crops only ever slow a movement down.
    pub crop_max: f64,
    /// A random crop keeps at least this many frames (or the whole sequence if it is shorter).
    pub min_crop_frames: usize,
    /// Test-time centre crop share.
    pub test_crop: f64,
    /// Multi-window testing: where given, a sequence is classified from the mean of the class
    /// logits over these windows instead of the single centre crop of `test_crop` (at most
    /// [`MAX_TEST_WINDOWS`]). Not part of the published protocols.
    pub test_windows: Vec<TestWindow>,
    /// Random rotation: each Euler angle ~ U(-rotation, rotation) radians; 0 disables it.
    pub rotation: f64,
    /// Random scale: every training clip is multiplied by s ~ U(1 - scale, 1 + scale) about the origin
    /// (the first frame's root joint when `centre` is on), after the rotation; 0 disables it. It
    /// varies the body's size as between subjects. Not part of the published protocols.
    pub scale: f64,
    /// Centre every clip on its first frame's root joint (joint 0), per person, before rotation (as
    /// MAMP's NTU data is centred on a body joint of the first frame): the model then sees the body's
    /// shape and motion, not where the subject stood in the capture room.
    pub centre: bool,
}

impl Default for ClipConfig {
    fn default() -> Self {
        Self {
            frames: 120,
            crop_min: 0.5,
            crop_max: 1.0,
            min_crop_frames: 64,
            test_crop: 0.95,
            test_windows: Vec::new(),
            rotation: 0.3,
            scale: 0.0,
            centre: true,
        }
    }
}

/// The largest `crop_max`: a window at most this many times the valid frames.
pub const MAX_CROP_SHARE: f64 = 3.0;

/// The most test windows a sequence is classified from.
pub const MAX_TEST_WINDOWS: usize = 32;

/// One test-time window of a sequence's valid frames: `share` of them, placed at `at` (0: the first
/// frames, 0.5: the centre, as the centre crop, 1: the last frames).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestWindow {
    /// Share of the valid frames, in (0, 1].
    pub share: f64,
    /// Position of the window in [0, 1].
    pub at: f64,
}

impl TestWindow {
    /// The window's first frame and length within `valid` frames. Its length is the centre crop's,
    /// `valid - 2 floor((1 - share) valid / 2)`, and its start `round(at (valid - length))`, so
    /// `at = 0.5` gives [`centre_crop`]'s window.
    pub fn frames(&self, valid: usize) -> (usize, usize) {
        let (_, len) = centre_crop(valid, self.share);
        let spare = valid.saturating_sub(len);
        (((self.at * spare as f64).round() as usize).min(spare), len)
    }
}

impl ClipConfig {
    /// Checks the crop, rotation and scale fields, naming the first that is out of range
    /// (`clip.<field> = value: expected ...`).
    pub fn validate(&self) -> Result<(), String> {
        if !(self.crop_min > 0.0 && self.crop_min <= self.crop_max && self.crop_max <= MAX_CROP_SHARE) {
            return Err(format!(
                "clip.crop_min = {}, clip.crop_max = {}: expected 0 < crop_min <= crop_max <= {MAX_CROP_SHARE}",
                self.crop_min, self.crop_max
            ));
        }
        if !(self.test_crop > 0.0 && self.test_crop <= 1.0) {
            return Err(format!("clip.test_crop = {}: expected a share in (0, 1]", self.test_crop));
        }
        if self.test_windows.len() > MAX_TEST_WINDOWS {
            return Err(format!(
                "clip.test_windows: {} windows, expected at most {MAX_TEST_WINDOWS}",
                self.test_windows.len()
            ));
        }
        for (i, w) in self.test_windows.iter().enumerate() {
            if !(w.share > 0.0 && w.share <= 1.0 && (0.0..=1.0).contains(&w.at)) {
                return Err(format!(
                    "clip.test_windows[{i}] = {{ share = {}, at = {} }}: expected a share in (0, 1] and a \
                     position in [0, 1]",
                    w.share, w.at
                ));
            }
        }
        if !(self.rotation.is_finite() && self.rotation >= 0.0) {
            return Err(format!("clip.rotation = {}: expected an angle >= 0 in radians", self.rotation));
        }
        if !(self.scale >= 0.0 && self.scale < 1.0) {
            return Err(format!("clip.scale = {}: expected a share in [0, 1)", self.scale));
        }
        Ok(())
    }

    /// The windows a test sequence is classified from: `test_windows`, or else the one centre crop of
    /// `test_crop`.
    pub fn test_views(&self) -> Vec<TestWindow> {
        if self.test_windows.is_empty() { vec![self.centre_window()] } else { self.test_windows.clone() }
    }

    /// How many windows a test sequence is classified from (`test_views().len()`).
    pub fn test_view_count(&self) -> usize {
        self.test_windows.len().max(1)
    }

    /// The published test-time window: the centre crop of `test_crop`.
    pub fn centre_window(&self) -> TestWindow {
        TestWindow { share: self.test_crop, at: 0.5 }
    }
}

/// Number of frames whose values are not all zero (the MAMP feeder's `valid_frame_num`).
pub fn valid_frame_count(seq: &Sequence) -> usize {
    let fl = seq.frame_len();
    (0..seq.frames).filter(|&t| seq.positions[t * fl..(t + 1) * fl].iter().any(|&x| x != 0.0)).count()
}

/// A random crop of the first `valid` frames: p ~ U(crop_min, crop_max), length = floor(valid * p)
/// clamped to [min_crop_frames, valid], start uniform in [0, valid - length]. With p > 1 the window
/// is longer than the valid frames (length = floor(valid * p)) and its start is uniform in
/// [valid - length, 0]: the valid frames sit at a random place inside it (see
/// [`ClipConfig::crop_max`]). Returns (start, length).
pub fn random_crop(valid: usize, cfg: &ClipConfig, rng: &mut SeededRng) -> (isize, usize) {
    let p = rng.uniform_range(cfg.crop_min, cfg.crop_max);
    let want = (valid as f64 * p).floor() as usize;
    // Only a share above 1 asks for more frames than there are.
    if want > valid {
        let spare = want - valid;
        let lead = rng.below(spare as u64 + 1) as usize;
        return (-signed(lead), want);
    }
    let len = want.max(cfg.min_crop_frames).min(valid).max(1.min(valid));
    let start = rng.below((valid - len + 1) as u64) as usize;
    (signed(start), len)
}

/// A frame count as a signed frame offset (frame counts come from allocated sequences, far below
/// `isize::MAX`).
fn signed(frames: usize) -> isize {
    isize::try_from(frames).unwrap_or(isize::MAX)
}

/// The test-time centre crop: `bias = floor((1 - p) * valid / 2)`, frames [bias, valid - bias).
pub fn centre_crop(valid: usize, p: f64) -> (usize, usize) {
    let bias = ((1.0 - p) * valid as f64 / 2.0).floor() as usize;
    let len = valid.saturating_sub(2 * bias).max(1.min(valid));
    (bias.min(valid.saturating_sub(len)), len)
}

/// Linear temporal resize of the window of frames [start, start + len) to `out` frames with
/// half-pixel centres (PyTorch `interpolate(mode='bilinear', align_corners=False)` along time):
/// src = max(0, (i + 0.5) * len / out - 0.5), blended between floor(src) and the next frame. Window
/// frames outside the first `valid` frames (a negative start, or an end past `valid`) hold the
/// nearest valid frame's pose.
///
/// # Shapes
/// `seq`: [T, M, V, 3] -> [out, M, V, 3]
pub fn resize_frames(seq: &Sequence, start: isize, len: usize, valid: usize, out: usize) -> Sequence {
    let fl = seq.frame_len();
    let mut positions = vec![0.0f32; out * fl];
    let last = valid.min(seq.frames).saturating_sub(1);
    let frame = |k: usize| start.saturating_add(signed(k)).clamp(0, signed(last)).unsigned_abs();
    if len > 0 && seq.frames > 0 {
        let scale = len as f64 / out as f64;
        for i in 0..out {
            let src = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(len - 1);
            let i1 = (i0 + 1).min(len - 1);
            let lambda = (src - i0 as f64) as f32;
            let (a, b) = (frame(i0) * fl, frame(i1) * fl);
            for k in 0..fl {
                positions[i * fl + k] = (1.0 - lambda) * seq.positions[a + k] + lambda * seq.positions[b + k];
            }
        }
    }
    Sequence { positions, frames: out, ..seq.clone() }
}

/// The rotation of the MAMP feeder: R = Rz . Ry . Rx with its sign pattern
/// (Rx = [[1,0,0],[0,c,s],[0,-s,c]], Ry = [[c,0,-s],[0,1,0],[s,0,c]], Rz = [[c,s,0],[-s,c,0],[0,0,1]]).
pub fn feeder_rotation(ax: f64, ay: f64, az: f64) -> Mat3 {
    let (sx, cx) = ax.sin_cos();
    let (sy, cy) = ay.sin_cos();
    let (sz, cz) = az.sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cx, sx], [0.0, -sx, cx]];
    let ry = [[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]];
    let rz = [[cz, sz, 0.0], [-sz, cz, 0.0], [0.0, 0.0, 1.0]];
    crate::math::mul(&crate::math::mul(&rz, &ry), &rx)
}

/// Applies a rotation to every joint of every frame and person (zeros stay zero).
pub fn rotate(seq: &mut Sequence, r: &Mat3) {
    for p in seq.positions.chunks_exact_mut(3) {
        let v = crate::math::apply(r, [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
        p.copy_from_slice(&[v[0] as f32, v[1] as f32, v[2] as f32]);
    }
}

/// Moves every person so that its root joint (joint 0) in the first frame where it is present sits at
/// the origin. Frames where the person is absent (all zeros) stay zero.
pub fn centre_on_root(seq: &mut Sequence) {
    let (v_len, m_len) = (seq.joints, seq.persons);
    for m in 0..m_len {
        let Some(first) = (0..seq.frames).find(|&t| seq.person_present(t, m)) else { continue };
        let i = seq.index(first, m, 0, 0);
        let root = [seq.positions[i], seq.positions[i + 1], seq.positions[i + 2]];
        for t in first..seq.frames {
            if !seq.person_present(t, m) {
                continue;
            }
            let i = seq.index(t, m, 0, 0);
            for (k, x) in seq.positions[i..i + v_len * 3].iter_mut().enumerate() {
                *x -= root[k % 3];
            }
        }
    }
}

/// A training clip: random crop (a window longer than the sequence with `crop_max > 1`), resize to
/// T, centring (with `centre`), random rotation (angles drawn x, y, z in that order), random scale
/// (with `scale > 0`, drawn after the angles).
pub fn train_clip(seq: &Sequence, cfg: &ClipConfig, rng: &mut SeededRng) -> Sequence {
    let valid = valid_frame_count(seq).max(1).min(seq.frames);
    let (start, len) = random_crop(valid, cfg, rng);
    let mut clip = resize_frames(seq, start, len, valid, cfg.frames);
    if cfg.centre {
        centre_on_root(&mut clip);
    }
    if cfg.rotation > 0.0 {
        let a = [0; 3].map(|_| rng.uniform_range(-cfg.rotation, cfg.rotation));
        rotate(&mut clip, &feeder_rotation(a[0], a[1], a[2]));
    }
    if cfg.scale > 0.0 {
        let s = rng.uniform_range(1.0 - cfg.scale, 1.0 + cfg.scale) as f32;
        clip.positions.iter_mut().for_each(|x| *x *= s);
    }
    clip
}

/// A test clip: centre crop, resize to T, centring (with `centre`), no rotation.
pub fn test_clip(seq: &Sequence, cfg: &ClipConfig) -> Sequence {
    window_clip(seq, cfg, &cfg.centre_window())
}

/// The test clip of one window: the window, resized to T, centring (with `centre`), no rotation.
pub fn window_clip(seq: &Sequence, cfg: &ClipConfig, window: &TestWindow) -> Sequence {
    let valid = valid_frame_count(seq).max(1).min(seq.frames);
    let (start, len) = window.frames(valid);
    let mut clip = resize_frames(seq, signed(start), len, valid, cfg.frames);
    if cfg.centre {
        centre_on_root(&mut clip);
    }
    clip
}

/// NAT normalisation: per person, joint and axis, subtract the mean over time and divide by
/// sqrt(variance + eps) (population variance over the T frames). An absent person stays zero.
pub fn nat_normalize(seq: &Sequence, eps: f64) -> Sequence {
    let mut out = seq.clone();
    for m in 0..seq.persons {
        for v in 0..seq.joints {
            for c in 0..3 {
                let (mean, sd) = nat_stats(seq, m, v, c, eps);
                let inv = 1.0 / sd;
                for t in 0..seq.frames {
                    let i = seq.index(t, m, v, c);
                    out.positions[i] = ((f64::from(seq.positions[i]) - mean) * inv) as f32;
                }
            }
        }
    }
    out
}

/// The mean over time and sqrt(population variance + eps) of person `m`, joint `v`, axis `c`: the
/// statistics [`nat_normalize`] divides by (and a NAT prediction is mapped back with).
pub fn nat_stats(seq: &Sequence, m: usize, v: usize, c: usize, eps: f64) -> (f64, f64) {
    let t_len = seq.frames.max(1) as f64;
    let at = |t: usize| f64::from(seq.positions[seq.index(t, m, v, c)]);
    let mean = (0..seq.frames).map(at).sum::<f64>() / t_len;
    let var = (0..seq.frames).map(|t| (at(t) - mean).powi(2)).sum::<f64>() / t_len;
    (mean, (var + eps).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centring_moves_the_first_root_to_the_origin_and_keeps_absent_frames_zero() {
        // Two persons, two joints, three frames; person 1 is absent in frame 0.
        let mut pos = vec![0.0f32; 3 * 2 * 2 * 3];
        let mut seq = Sequence::new("c", 0, 3, 2, 2, pos.clone());
        for t in 0..3 {
            for v in 0..2 {
                for c in 0..3 {
                    let x = 10.0 * t as f32 + v as f32 + 100.0 * c as f32;
                    pos[seq.index(t, 0, v, c)] = x;
                    if t > 0 {
                        pos[seq.index(t, 1, v, c)] = x + 5.0;
                    }
                }
            }
        }
        seq.positions = pos;
        centre_on_root(&mut seq);
        let at = |t, m, v, c| seq.positions[seq.index(t, m, v, c)];
        // Person 0: root of frame 0 was (0, 100, 200); joint 1 of frame 2 was (21, 121, 221).
        assert_eq!([at(0, 0, 0, 0), at(0, 0, 0, 1), at(0, 0, 0, 2)], [0.0, 0.0, 0.0]);
        assert_eq!([at(2, 0, 1, 0), at(2, 0, 1, 1), at(2, 0, 1, 2)], [21.0, 21.0, 21.0]);
        // Person 1: first present in frame 1 with root (15, 115, 215); frame 0 stays absent.
        assert!((0..2).all(|v| (0..3).all(|c| at(0, 1, v, c) == 0.0)));
        assert_eq!([at(2, 1, 1, 0), at(2, 1, 1, 2)], [11.0, 11.0]);
    }

    fn ramp(frames: usize) -> Sequence {
        // One person, one joint: x = frame index, y = 2 * frame index, z = 1.
        let pos: Vec<f32> = (0..frames).flat_map(|t| [t as f32, 2.0 * t as f32, 1.0]).collect();
        Sequence::new("r", 0, frames, 1, 1, pos)
    }

    #[test]
    fn resize_uses_half_pixel_centres() {
        // 4 frames -> 8: src = (i + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, ..., 3.25 -> 3.
        let r = resize_frames(&ramp(4), 0, 4, 4, 8);
        let xs: Vec<f32> = (0..8).map(|t| r.joint(t, 0, 0)[0]).collect();
        assert_eq!(xs, vec![0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]);
        // 6 frames -> 3: src = 0.5, 2.5, 4.5.
        let r = resize_frames(&ramp(6), 0, 6, 6, 3);
        assert_eq!((0..3).map(|t| r.joint(t, 0, 0)[0]).collect::<Vec<_>>(), vec![0.5, 2.5, 4.5]);
        // A crop window starting at frame 2.
        let r = resize_frames(&ramp(10), 2, 2, 10, 2);
        assert_eq!((0..2).map(|t| r.joint(t, 0, 0)[0]).collect::<Vec<_>>(), vec![2.0, 3.0]);
    }

    #[test]
    fn a_window_past_the_valid_frames_holds_the_end_poses() {
        // 4 valid frames (then 2 zero frames) in a window of 8 from frame -2 -> 8 frames: src = i, so
        // frames -2..6, held at the first and the last valid frame, never reading the zero frames.
        let mut s = ramp(6);
        s.positions[12..].fill(0.0);
        let r = resize_frames(&s, -2, 8, 4, 8);
        let xs: Vec<f32> = (0..8).map(|t| r.joint(t, 0, 0)[0]).collect();
        assert_eq!(xs, vec![0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0]);
        // The same window resized to 4: src = 2i + 0.5 -> blends of frames (-2, -1), (0, 1), (2, 3), (4, 5).
        let r = resize_frames(&s, -2, 8, 4, 4);
        assert_eq!((0..4).map(|t| r.joint(t, 0, 0)[0]).collect::<Vec<_>>(), vec![0.0, 0.5, 2.5, 3.0]);
    }

    #[test]
    fn crop_shares_above_one_place_the_sequence_inside_a_longer_window() {
        let cfg = ClipConfig { crop_min: 1.2, crop_max: 2.0, ..Default::default() };
        let mut rng = SeededRng::new(7);
        let (mut leads, mut lens) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        for _ in 0..500 {
            let (s, l) = random_crop(100, &cfg, &mut rng);
            // floor(100 * p) for p in [1.2, 2): 120..=199 frames; the 100 valid frames inside it.
            assert!((120..200).contains(&l) && s <= 0 && s + l as isize >= 100, "{s} {l}");
            leads.insert(-s);
            lens.insert(l);
        }
        assert!(leads.contains(&0) && leads.len() > 50 && lens.len() > 50, "{} {}", leads.len(), lens.len());
        // A clip of a ramp from such a window spans the whole ramp (to within one source frame at
        // each end) and holds a pose: at least 20 window frames (3 clip frames) lie outside it.
        let clip = train_clip(&ramp(100), &ClipConfig { rotation: 0.0, centre: false, ..cfg }, &mut rng);
        let xs: Vec<f32> = (0..clip.frames).map(|t| clip.joint(t, 0, 0)[0]).collect();
        assert!(xs[0] <= 1.0 && xs[xs.len() - 1] >= 98.0, "{xs:?}");
        // (A blend of two equal poses may differ from them in the last float bit.)
        let held = xs.windows(2).filter(|w| (w[1] - w[0]).abs() < 1e-4).count();
        assert!(xs.windows(2).all(|w| w[1] >= w[0] - 1e-4) && held >= 3, "{xs:?}");
    }

    #[test]
    fn crops_follow_the_feeder_rules() {
        let cfg = ClipConfig::default();
        let mut rng = SeededRng::new(5);
        for _ in 0..200 {
            let (s, l) = random_crop(300, &cfg, &mut rng);
            assert!((150..=300).contains(&l) && s >= 0 && s as usize + l <= 300, "{s} {l}");
            let (s, l) = random_crop(100, &cfg, &mut rng);
            assert!(l >= 64 && s >= 0 && s as usize + l <= 100);
            assert_eq!(random_crop(40, &cfg, &mut rng), (0, 40), "short sequences are kept whole");
        }
        // bias = floor(0.05 * 100 / 2) = 2 -> frames [2, 98).
        assert_eq!(centre_crop(100, 0.95), (2, 96));
        assert_eq!(centre_crop(300, 0.95), (7, 286));
    }

    #[test]
    fn test_windows_span_the_valid_frames_and_the_centre_one_is_the_centre_crop() {
        for valid in [1, 2, 7, 60, 99, 100, 301] {
            for share in [0.05, 0.5, 0.75, 0.95, 1.0] {
                let centre = TestWindow { share, at: 0.5 }.frames(valid);
                assert_eq!(centre, centre_crop(valid, share), "valid {valid}, share {share}");
                let (first, len) = TestWindow { share, at: 0.0 }.frames(valid);
                let (last, len1) = TestWindow { share, at: 1.0 }.frames(valid);
                assert_eq!((first, len1, last + len), (0, len, valid), "valid {valid}, share {share}");
            }
        }
        // 100 frames at 0.75: floor(0.25 * 100 / 2) = 12 -> 76 frames; 24 spare, a quarter in: 6.
        assert_eq!(TestWindow { share: 0.75, at: 0.25 }.frames(100), (6, 76));
        let cfg = ClipConfig::default();
        assert_eq!(cfg.test_views(), vec![TestWindow { share: 0.95, at: 0.5 }]);
        let seq = ramp(100);
        assert_eq!(window_clip(&seq, &cfg, &cfg.test_views()[0]), test_clip(&seq, &cfg));
        for (bad, field) in [((1.5, 0.5), "clip.test_windows[1]"), ((0.5, -0.1), "clip.test_windows[1]")] {
            let windows = vec![TestWindow { share: 0.9, at: 0.0 }, TestWindow { share: bad.0, at: bad.1 }];
            let e = ClipConfig { test_windows: windows, ..Default::default() }.validate().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        }
        let many = vec![TestWindow { share: 0.9, at: 0.5 }; MAX_TEST_WINDOWS + 1];
        assert!(ClipConfig { test_windows: many, ..Default::default() }.validate().is_err());
    }

    #[test]
    fn valid_frames_ignore_zero_frames_and_a_seed_reproduces_a_clip() {
        let mut s = ramp(10);
        for k in 0..3 {
            s.positions[9 * 3 + k] = 0.0;
        }
        assert_eq!(valid_frame_count(&s), 9);
        let cfg = ClipConfig::default();
        let a = train_clip(&ramp(200), &cfg, &mut SeededRng::new(11));
        let b = train_clip(&ramp(200), &cfg, &mut SeededRng::new(11));
        let c = train_clip(&ramp(200), &cfg, &mut SeededRng::new(12));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.frames, 120);
    }

    #[test]
    fn scale_multiplies_a_clip_by_one_factor_in_its_range_and_is_validated() {
        let still = ClipConfig { crop_min: 1.0, crop_max: 1.0, rotation: 0.0, centre: false, ..Default::default() };
        let seq = ramp(200);
        let plain = train_clip(&seq, &still, &mut SeededRng::new(3));
        let scaled = train_clip(&seq, &ClipConfig { scale: 0.2, ..still.clone() }, &mut SeededRng::new(3));
        // The same crop (a full one), then one factor for every coordinate: the ratio is constant.
        let ratios: Vec<f32> =
            plain.positions.iter().zip(&scaled.positions).filter(|(p, _)| p.abs() > 1e-3).map(|(p, s)| s / p).collect();
        assert!(!ratios.is_empty());
        let s = ratios[0];
        assert!((0.8..=1.2).contains(&s) && (s - 1.0).abs() > 1e-6, "factor {s}");
        assert!(ratios.iter().all(|r| (r - s).abs() < 1e-4));
        assert!(ClipConfig { scale: 0.2, ..Default::default() }.validate().is_ok());
        for bad in [-0.1, 1.0, f64::NAN] {
            let e = ClipConfig { scale: bad, ..Default::default() }.validate().unwrap_err();
            assert!(e.starts_with("clip.scale = "), "{e}");
        }
        let e = ClipConfig { crop_min: 0.0, ..Default::default() }.validate().unwrap_err();
        assert!(e.starts_with("clip.crop_min = 0"), "{e}");
    }

    #[test]
    fn rotation_matches_the_feeder_matrices() {
        let r = feeder_rotation(0.0, 0.0, std::f64::consts::FRAC_PI_2);
        // Rz = [[c, s, 0], [-s, c, 0], [0, 0, 1]] at 90 deg sends x to -y.
        let v = crate::math::apply(&r, [1.0, 0.0, 0.0]);
        assert!((v[0]).abs() < 1e-12 && (v[1] + 1.0).abs() < 1e-12);
        let r = feeder_rotation(0.2, -0.1, 0.3);
        let (sx, cx) = 0.2f64.sin_cos();
        let (sy, cy) = (-0.1f64).sin_cos();
        let (sz, cz) = 0.3f64.sin_cos();
        // Entry (0, 0) of Rz.Ry.Rx = cz*cy; entry (2, 2) = cy*cx; entry (2, 1) = -cy*sx... by hand:
        assert!((r[0][0] - cz * cy).abs() < 1e-12);
        assert!((r[2][2] - cy * cx).abs() < 1e-12);
        assert!((r[2][0] - sy).abs() < 1e-12);
        assert!((r[1][0] - (-sz * cy)).abs() < 1e-12);
        assert!((r[2][1] - (-cy * sx)).abs() < 1e-12);
    }

    #[test]
    fn nat_gives_zero_mean_unit_variance_and_keeps_absent_persons_zero() {
        let mut s = Sequence::new("two", 0, 5, 2, 1, vec![0.0; 5 * 2 * 3]);
        for t in 0..5 {
            let i = s.index(t, 0, 0, 0);
            s.positions[i] = [1.0, 3.0, 2.0, 7.0, 2.0][t];
            s.positions[i + 2] = 4.0;
        }
        let n = nat_normalize(&s, 1e-6);
        // x: mean 3, population variance (4 + 0 + 1 + 16 + 1) / 5 = 4.4.
        let x0 = n.positions[n.index(0, 0, 0, 0)];
        assert!((x0 - (-2.0 / (4.4f32 + 1e-6).sqrt())).abs() < 1e-6);
        assert_eq!(n.positions[n.index(3, 0, 0, 2)], 0.0, "a constant axis becomes 0");
        assert!(n.person_absent(1));
    }
}
