//! BVH motion capture files: hierarchy, channels in any order, forward kinematics.

use std::path::Path;

use super::{Dataset, Sequence};
use crate::error::DataError;
use crate::math::{self, IDENTITY, Mat3};
use crate::skeleton::Layout;

/// Options of the BVH reader.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BvhOptions {
    /// Multiplies every length (1/100: centimetres to metres).
    pub scale: f64,
    /// Drops a root node that carries no motion (identity transform in every frame) and has one child.
    pub drop_static_root: bool,
}

impl Default for BvhOptions {
    fn default() -> Self {
        Self { scale: 0.01, drop_static_root: true }
    }
}

#[derive(Debug, Clone)]
struct Joint {
    name: String,
    parent: Option<usize>,
    offset: [f64; 3],
    /// Channel kinds: 0..3 = X/Y/Z position, 3..6 = X/Y/Z rotation.
    channels: Vec<usize>,
    first_channel: usize,
}

/// A parsed BVH take: joints (End Sites excluded), positions [T, 1, V, 3] in metres, frame time.
#[derive(Debug, Clone)]
pub struct BvhTake {
    /// Skeleton of the take.
    pub layout: Layout,
    /// One sequence (1 person), named after the file stem.
    pub sequence: Sequence,
    /// Seconds per frame.
    pub frame_time: f64,
}

struct Tokens<'a> {
    lines: Vec<(usize, Vec<&'a str>)>,
    li: usize,
    ti: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.split_whitespace().collect())).collect();
        Self { lines, li: 0, ti: 0 }
    }
    fn line(&self) -> usize {
        self.lines.get(self.li).map_or(self.lines.len(), |l| l.0)
    }
    fn next(&mut self) -> Option<&'a str> {
        while let Some((_, toks)) = self.lines.get(self.li) {
            if let Some(t) = toks.get(self.ti) {
                self.ti += 1;
                return Some(t);
            }
            self.li += 1;
            self.ti = 0;
        }
        None
    }
}

/// Parses BVH text; `path` names the file in errors.
pub fn parse_bvh(text: &str, path: &Path, opts: BvhOptions) -> Result<BvhTake, DataError> {
    let mut tk = Tokens::new(text);
    let err = |tk: &Tokens<'_>, m: String| DataError::at_line(path, tk.line(), m);
    if tk.next() != Some("HIERARCHY") {
        return Err(err(&tk, "expected `HIERARCHY` at the start".into()));
    }
    let mut joints: Vec<Joint> = Vec::new();
    let mut stack: Vec<Option<usize>> = Vec::new(); // None = End Site block
    let mut n_channels = 0usize;
    let mut pending: Option<(String, bool)> = None; // (name, is_end_site)
    loop {
        let Some(tok) = tk.next() else { return Err(err(&tk, "file ends inside the hierarchy".into())) };
        match tok {
            "ROOT" | "JOINT" => {
                if tok == "ROOT" && !stack.is_empty() {
                    return Err(err(&tk, "`ROOT` inside another joint".into()));
                }
                let name = tk.next().ok_or_else(|| err(&tk, "joint without a name".into()))?;
                pending = Some((name.to_owned(), false));
            }
            "End" => {
                tk.next();
                pending = Some((String::new(), true));
            }
            "{" => {
                let (name, end) = pending.take().ok_or_else(|| err(&tk, "`{` without a joint".into()))?;
                if end {
                    stack.push(None);
                } else {
                    let parent = stack.iter().rev().flatten().next().copied();
                    joints.push(Joint {
                        name,
                        parent,
                        offset: [0.0; 3],
                        channels: Vec::new(),
                        first_channel: n_channels,
                    });
                    stack.push(Some(joints.len() - 1));
                }
            }
            "}" => {
                stack.pop().ok_or_else(|| err(&tk, "unbalanced `}`".into()))?;
                if stack.is_empty() {
                    break;
                }
            }
            "OFFSET" => {
                let mut o = [0.0; 3];
                for v in &mut o {
                    let t = tk.next().unwrap_or("");
                    *v = t
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(&tk, format!("OFFSET value `{t}` is not a finite number")))?;
                }
                if let Some(Some(j)) = stack.last() {
                    joints[*j].offset = o;
                }
            }
            "CHANNELS" => {
                let t = tk.next().unwrap_or("");
                let n: usize = t.parse().map_err(|_| err(&tk, format!("channel count `{t}` is not a number")))?;
                let Some(Some(j)) = stack.last().copied() else {
                    return Err(err(&tk, "CHANNELS outside a joint".into()));
                };
                if !joints[j].channels.is_empty() {
                    return Err(err(&tk, format!("a second CHANNELS line for joint `{}`", joints[j].name)));
                }
                joints[j].first_channel = n_channels;
                for _ in 0..n {
                    let c = tk.next().unwrap_or("");
                    let kind = match c.to_ascii_lowercase().as_str() {
                        "xposition" => 0,
                        "yposition" => 1,
                        "zposition" => 2,
                        "xrotation" => 3,
                        "yrotation" => 4,
                        "zrotation" => 5,
                        _ => return Err(err(&tk, format!("unknown channel `{c}`"))),
                    };
                    joints[j].channels.push(kind);
                }
                n_channels += n;
            }
            other => return Err(err(&tk, format!("unexpected `{other}` in the hierarchy"))),
        }
    }
    if joints.is_empty() {
        return Err(err(&tk, "no joints".into()));
    }
    if tk.next() != Some("MOTION") {
        return Err(err(&tk, "expected `MOTION` after the hierarchy".into()));
    }
    let (a, b) = (tk.next(), tk.next());
    if a != Some("Frames:") {
        return Err(err(&tk, "expected `Frames: N`".into()));
    }
    let frames: usize = b
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(&tk, format!("frame count `{}` is not a number", b.unwrap_or(""))))?;
    let (a, b, c) = (tk.next(), tk.next(), tk.next());
    if (a, b) != (Some("Frame"), Some("Time:")) {
        return Err(err(&tk, "expected `Frame Time: dt`".into()));
    }
    let frame_time: f64 = c
        .and_then(|s| s.parse().ok())
        .filter(|d: &f64| d.is_finite() && *d > 0.0)
        .ok_or_else(|| err(&tk, "frame time is not a positive finite number".into()))?;

    // Motion lines: one per frame, n_channels values each.
    let first_line = tk.li + usize::from(tk.ti > 0);
    let motion: Vec<&(usize, Vec<&str>)> =
        tk.lines[first_line.min(tk.lines.len())..].iter().filter(|(_, t)| !t.is_empty()).collect();
    if motion.len() < frames {
        return Err(DataError::at_line(
            path,
            tk.lines.len(),
            format!("file ends after {} of {frames} frames (truncated?)", motion.len()),
        ));
    }
    // Filled line by line, each checked first: the buffer never exceeds the values the file holds.
    let mut values = Vec::new();
    for (line, toks) in motion.iter().take(frames) {
        if toks.len() != n_channels {
            return Err(DataError::at_line(
                path,
                *line,
                format!("{} values, expected {n_channels} (one per channel)", toks.len()),
            ));
        }
        for (k, t) in toks.iter().enumerate() {
            let v: f64 = t
                .parse()
                .map_err(|_| DataError::at_line(path, *line, format!("value {} `{t}` is not a number", k + 1)))?;
            if !v.is_finite() {
                return Err(DataError::at_line(path, *line, format!("value {} is not finite", k + 1)));
            }
            values.push(v);
        }
    }

    // Which joints to keep.
    let root_static = |j: usize| {
        let jt = &joints[j];
        (0..frames)
            .all(|f| jt.channels.iter().enumerate().all(|(k, _)| values[f * n_channels + jt.first_channel + k] == 0.0))
            && jt.offset == [0.0; 3]
    };
    let children_of_root = joints.iter().filter(|j| j.parent == Some(0)).count();
    let drop_root = opts.drop_static_root && joints.len() > 1 && children_of_root == 1 && root_static(0);
    let keep: Vec<usize> = (usize::from(drop_root)..joints.len()).collect();
    let new_index = |j: usize| keep.iter().position(|&k| k == j);

    let v = keep.len();
    let mut positions = vec![0.0f32; frames * v * 3];
    let mut rot: Vec<Mat3> = vec![IDENTITY; joints.len()];
    let mut pos: Vec<[f64; 3]> = vec![[0.0; 3]; joints.len()];
    for f in 0..frames {
        for (j, jt) in joints.iter().enumerate() {
            let mut t = jt.offset;
            let mut r = IDENTITY;
            for (k, &kind) in jt.channels.iter().enumerate() {
                let x = values[f * n_channels + jt.first_channel + k];
                if kind < 3 {
                    t[kind] = x;
                } else {
                    r = math::mul(&r, &math::rot_axis(kind - 3, x.to_radians()));
                }
            }
            match jt.parent {
                Some(p) => {
                    pos[j] = math::add(math::apply(&rot[p], t), pos[p]);
                    rot[j] = math::mul(&rot[p], &r);
                }
                None => {
                    pos[j] = t;
                    rot[j] = r;
                }
            }
        }
        for (nj, &j) in keep.iter().enumerate() {
            for c in 0..3 {
                positions[(f * v + nj) * 3 + c] = (pos[j][c] * opts.scale) as f32;
            }
        }
    }
    let names: Vec<String> = keep.iter().map(|&j| joints[j].name.clone()).collect();
    let parents: Vec<i64> =
        keep.iter().map(|&j| joints[j].parent.and_then(new_index).map_or(-1, |p| p as i64)).collect();
    let layout = Layout::from_parents(&format!("bvh{v}"), &parents, &names)
        .map_err(|e| DataError::in_file(path, e.to_string()))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(BvhTake { layout, sequence: Sequence::new(stem, -1, frames, 1, v, positions), frame_time })
}

/// Reads a BVH file from disk.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_bvh(path: &Path, opts: BvhOptions) -> Result<BvhTake, DataError> {
    let bytes = crate::io::read_file(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_bvh(&text, path, opts)
}

/// Builds a one-person dataset from BVH takes that share a skeleton (same joint names in the same order).
pub fn dataset_from_bvh(takes: Vec<BvhTake>, path: &Path) -> Result<Dataset, DataError> {
    let Some(first) = takes.first() else { return Err(DataError::in_file(path, "no BVH takes")) };
    let mut ds = Dataset::new(first.layout.clone(), 1, (1.0 / first.frame_time) as f32);
    ds.axes = "Y-up, right-handed (BVH world), metres".into();
    for t in takes {
        if t.layout.joint_names != ds.layout.joint_names {
            return Err(DataError::in_file(
                path,
                format!(
                    "take `{}` has a different skeleton ({} joints) than the first take",
                    t.sequence.name,
                    t.layout.joint_count()
                ),
            ));
        }
        ds.sequences.push(t.sequence);
    }
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_JOINTS: &str = "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n JOINT Spine\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 5 0\n  }\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.5\n100 0 0 0 0 0 0 0 0\n0 0 0 90 0 0 0 0 0\n";

    #[test]
    fn forward_kinematics_by_hand() {
        let t = parse_bvh(TWO_JOINTS, Path::new("two.bvh"), BvhOptions::default()).unwrap();
        assert_eq!(t.layout.joint_names, vec!["Hips", "Spine"]);
        assert_eq!(t.sequence.frames, 2);
        assert!((t.frame_time - 0.5).abs() < 1e-12);
        let near = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        // Frame 0: root translated 100 cm in x, spine 10 cm above it.
        assert!(near(t.sequence.joint(0, 0, 0), [1.0, 0.0, 0.0]));
        assert!(near(t.sequence.joint(0, 0, 1), [1.0, 0.1, 0.0]));
        // Frame 1: root rotated 90 deg about z: the spine offset (0, 10, 0) turns to (-10, 0, 0).
        assert!(near(t.sequence.joint(1, 0, 1), [-0.1, 0.0, 0.0]));
    }

    #[test]
    fn broken_bvh_names_file_and_line() {
        let p = Path::new("broken.bvh");
        let e =
            parse_bvh(&TWO_JOINTS.replace("100 0 0", "100 abc 0"), p, BvhOptions::default()).unwrap_err().to_string();
        assert!(e.contains("broken.bvh, line 19") && e.contains("`abc`"), "{e}");
        let e =
            parse_bvh(&TWO_JOINTS.replace("Frames: 2", "Frames: 3"), p, BvhOptions::default()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_bvh(&TWO_JOINTS.replace("0 0 0 90 0 0 0 0 0", "0 0 0 90 0 0"), p, BvhOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 20") && e.contains("expected 9"), "{e}");
        let e = parse_bvh(&TWO_JOINTS.replace("Yrotation\n JOINT", "Wrotation\n JOINT"), p, BvhOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5") && e.contains("Wrotation"), "{e}");
        let e = parse_bvh(&TWO_JOINTS[..TWO_JOINTS.find(" JOINT").unwrap()], p, BvhOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("ends inside the hierarchy"), "{e}");
        let e = parse_bvh(&TWO_JOINTS.replace("100 0 0", "NaN 0 0"), p, BvhOptions::default()).unwrap_err().to_string();
        assert!(e.contains("not finite"), "{e}");
        assert!(parse_bvh("garbage", p, BvhOptions::default()).is_err());
        // A joint with two CHANNELS lines would read past its own channels: refused.
        let twice = TWO_JOINTS.replace(
            "  CHANNELS 3 Zrotation Xrotation Yrotation\n",
            "  CHANNELS 3 Zrotation Xrotation Yrotation\n  CHANNELS 1 Xrotation\n",
        );
        let e = parse_bvh(&twice, p, BvhOptions::default()).unwrap_err().to_string();
        assert!(e.contains("line 10") && e.contains("second CHANNELS") && e.contains("`Spine`"), "{e}");
        let e = parse_bvh(&TWO_JOINTS.replace("OFFSET 0 10 0", "OFFSET 0 inf 0"), p, BvhOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("OFFSET value `inf`"), "{e}");
        let e = parse_bvh(&TWO_JOINTS.replace("Frame Time: 0.5", "Frame Time: inf"), p, BvhOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("frame time"), "{e}");
    }
}
