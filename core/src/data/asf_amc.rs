//! ASF skeletons and AMC motions (Acclaim / CMU convention, as HDM05 and the CMU database use them).
//!
//! Forward kinematics: the local rotation of a bone is C . M . C^-1, where C is built from the ASF
//! `axis` angles and M from the AMC degrees of freedom, both composed in the axis order given (for `XYZ`:
//! Rz . Ry . Rx, x applied first). A bone's end point is its parent's plus `length . R . direction`, with
//! R the accumulated rotation. Lengths are in units of `:units length` inches (0.45 for HDM05).

use std::path::Path;

use super::{Dataset, Sequence};
use crate::error::DataError;
use crate::math::{self, IDENTITY, Mat3};
use crate::skeleton::Layout;

const INCH: f64 = 0.0254;

#[derive(Debug, Clone)]
struct Bone {
    name: String,
    direction: [f64; 3],
    length: f64,
    c: Mat3,
    order: [usize; 3],
    /// Degrees of freedom in AMC order: 0..3 = rx ry rz, 3..6 = tx ty tz.
    dof: Vec<usize>,
    parent: Option<usize>,
}

impl Bone {
    /// A bone at rest: no length, no rotation, no degrees of freedom, no parent yet.
    fn named(name: &str) -> Self {
        Self {
            name: name.into(),
            direction: [0.0; 3],
            length: 0.0,
            c: IDENTITY,
            order: [0, 1, 2],
            dof: vec![],
            parent: None,
        }
    }
}

/// A parsed ASF skeleton: the root (index 0) and its bones.
#[derive(Debug, Clone)]
pub struct AsfSkeleton {
    bones: Vec<Bone>,
    /// Metres per ASF length unit.
    unit: f64,
    degrees: bool,
    root_order: Vec<usize>,
    root_position: [f64; 3],
    /// Joints in layout order: root then bones in file order.
    pub layout: Layout,
}

fn axis_index(c: char) -> Option<usize> {
    match c.to_ascii_uppercase() {
        'X' => Some(0),
        'Y' => Some(1),
        'Z' => Some(2),
        _ => None,
    }
}

/// Composes per-axis rotations in `order` (first axis applied first): for XYZ, Rz . Ry . Rx.
fn euler(order: [usize; 3], angles: [f64; 3]) -> Mat3 {
    let mut m = IDENTITY;
    for &a in &order {
        m = math::mul(&math::rot_axis(a, angles[a]), &m);
    }
    m
}

fn parse_order(s: &str) -> Option<[usize; 3]> {
    let v: Vec<usize> = s.chars().filter_map(axis_index).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

/// Parses ASF text; `path` names the file in errors.
pub fn parse_asf(text: &str, path: &Path) -> Result<AsfSkeleton, DataError> {
    let lines: Vec<(usize, Vec<&str>)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").split_whitespace().collect::<Vec<_>>()))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let num = |line: usize, t: Option<&&str>, what: &str| -> Result<f64, DataError> {
        let s = t.copied().unwrap_or("");
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| DataError::at_line(path, line, format!("{what}: `{s}` is not a number")))
    };
    let mut unit_length = 1.0;
    let mut degrees = true;
    let mut root_order: Vec<usize> = vec![3, 4, 5, 0, 1, 2];
    let mut root_axis = [0usize, 1, 2];
    let mut root_orient = [0.0; 3];
    let mut root_position = [0.0; 3];
    let mut bones = vec![Bone::named("root")];
    let mut section = "";
    let mut i = 0;
    let mut cur: Option<Bone> = None;
    let mut saw_hierarchy = false;
    while i < lines.len() {
        let (ln, t) = &lines[i];
        let (ln, key) = (*ln, t[0]);
        if key.starts_with(':') {
            section = key;
            if key == ":hierarchy" {
                saw_hierarchy = true;
            }
            i += 1;
            continue;
        }
        match section {
            ":units" => match key {
                "length" => {
                    // Lengths are divided by it: 0 would put every joint at infinity.
                    unit_length = num(ln, t.get(1), "units length")?;
                    if unit_length <= 0.0 {
                        return Err(DataError::at_line(
                            path,
                            ln,
                            format!("units length: {unit_length} is not a positive number"),
                        ));
                    }
                }
                "angle" => degrees = t.get(1).is_none_or(|s| s.starts_with("deg")),
                _ => {}
            },
            ":root" => match key {
                "order" => {
                    root_order = t[1..]
                        .iter()
                        .map(|s| {
                            let u = s.to_ascii_uppercase();
                            let axis = u.chars().nth(1).and_then(axis_index);
                            match (u.chars().next(), axis) {
                                (Some('R'), Some(a)) => Ok(3 + a),
                                (Some('T'), Some(a)) => Ok(a),
                                _ => Err(DataError::at_line(
                                    path,
                                    ln,
                                    format!("root order entry `{s}`, expected TX..RZ"),
                                )),
                            }
                        })
                        .collect::<Result<_, _>>()?;
                }
                "axis" => {
                    root_axis = t
                        .get(1)
                        .and_then(|s| parse_order(s))
                        .ok_or_else(|| DataError::at_line(path, ln, "root axis, expected e.g. XYZ"))?;
                }
                "orientation" => {
                    for (k, o) in root_orient.iter_mut().enumerate() {
                        *o = num(ln, t.get(k + 1), "root orientation")?;
                    }
                }
                "position" => {
                    for (k, o) in root_position.iter_mut().enumerate() {
                        *o = num(ln, t.get(k + 1), "root position")?;
                    }
                }
                _ => {}
            },
            ":bonedata" => match key {
                "begin" => cur = Some(Bone::named("")),
                "end" => {
                    let b = cur.take().ok_or_else(|| DataError::at_line(path, ln, "`end` without `begin`"))?;
                    if b.name.is_empty() {
                        return Err(DataError::at_line(path, ln, "bone without a name"));
                    }
                    bones.push(b);
                }
                _ => {
                    let b = cur
                        .as_mut()
                        .ok_or_else(|| DataError::at_line(path, ln, format!("`{key}` outside begin/end")))?;
                    match key {
                        "name" => b.name = t.get(1).copied().unwrap_or("").to_owned(),
                        "direction" => {
                            for k in 0..3 {
                                b.direction[k] = num(ln, t.get(k + 1), "direction")?;
                            }
                        }
                        "length" => b.length = num(ln, t.get(1), "length")?,
                        "axis" => {
                            let mut a = [0.0; 3];
                            for (k, v) in a.iter_mut().enumerate() {
                                *v = num(ln, t.get(k + 1), "axis")?;
                            }
                            b.order = t.get(4).and_then(|s| parse_order(s)).unwrap_or([0, 1, 2]);
                            let a = if degrees { a.map(f64::to_radians) } else { a };
                            b.c = euler(b.order, a);
                        }
                        "dof" => {
                            b.dof = t[1..]
                                .iter()
                                .filter_map(|s| {
                                    let u = s.to_ascii_lowercase();
                                    if u == "l" {
                                        return Some(usize::MAX);
                                    }
                                    let a = u.chars().nth(1).and_then(axis_index)?;
                                    Some(match u.chars().next() {
                                        Some('r') => a,
                                        Some('t') => 3 + a,
                                        _ => usize::MAX,
                                    })
                                })
                                .collect();
                        }
                        _ => {}
                    }
                }
            },
            ":hierarchy" if key != "begin" && key != "end" => {
                let find = |bones: &[Bone], n: &str| bones.iter().position(|b| b.name == n);
                let p = find(&bones, key)
                    .ok_or_else(|| DataError::at_line(path, ln, format!("unknown parent bone `{key}`")))?;
                for child in &t[1..] {
                    let c = find(&bones, child)
                        .ok_or_else(|| DataError::at_line(path, ln, format!("unknown child bone `{child}`")))?;
                    bones[c].parent = Some(p);
                }
            }
            _ => {}
        }
        i += 1;
    }
    if bones.len() < 2 || !saw_hierarchy {
        return Err(DataError::in_file(path, "no bones or no :hierarchy section (not an ASF file?)"));
    }
    if let Some(b) = bones.iter().skip(1).find(|b| b.parent.is_none()) {
        return Err(DataError::at_field(path, ":hierarchy", format!("bone `{}` has no parent", b.name)));
    }
    let root_orient = if degrees { root_orient.map(f64::to_radians) } else { root_orient };
    bones[0].c = euler(root_axis, root_orient);
    bones[0].order = root_axis;
    let names: Vec<String> = bones.iter().map(|b| b.name.clone()).collect();
    let parents: Vec<i64> = bones.iter().map(|b| b.parent.map_or(-1, |p| p as i64)).collect();
    let layout = Layout::from_parents(&format!("asf{}", names.len()), &parents, &names)
        .map_err(|e| DataError::at_field(path, ":hierarchy", e.to_string()))?;
    Ok(AsfSkeleton { bones, unit: INCH / unit_length, degrees, root_order, root_position, layout })
}

/// Parses AMC text for a skeleton: positions [T, 1, V, 3] in metres, V = 1 + bones (root first).
pub fn parse_amc(text: &str, skel: &AsfSkeleton, path: &Path) -> Result<Sequence, DataError> {
    let v = skel.bones.len();
    let mut frames: Vec<Vec<Option<Vec<f64>>>> = Vec::new();
    let mut frame_lines: Vec<usize> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(':') {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() == 1 && toks[0].parse::<usize>().is_ok() {
            frames.push(vec![None; v]);
            frame_lines.push(ln);
            continue;
        }
        let Some(frame) = frames.last_mut() else {
            return Err(DataError::at_line(path, ln, "bone values before the first frame number"));
        };
        let b = skel
            .bones
            .iter()
            .position(|b| b.name == toks[0])
            .ok_or_else(|| DataError::at_line(path, ln, format!("unknown bone `{}`", toks[0])))?;
        let vals = toks[1..]
            .iter()
            .map(|s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| DataError::at_line(path, ln, format!("`{s}` is not a finite number")))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let expected = if b == 0 { skel.root_order.len() } else { skel.bones[b].dof.len() };
        if vals.len() != expected {
            return Err(DataError::at_line(
                path,
                ln,
                format!("bone `{}` has {} values, expected {expected}", toks[0], vals.len()),
            ));
        }
        frame[b] = Some(vals);
    }
    if frames.is_empty() {
        return Err(DataError::in_file(path, "no frames"));
    }
    let to_rad = |x: f64| if skel.degrees { x.to_radians() } else { x };
    let mut positions = vec![0.0f32; frames.len() * v * 3];
    let mut rot = vec![IDENTITY; v];
    let mut pos = vec![[0.0; 3]; v];
    // Bones in an order where parents come first.
    let mut order: Vec<usize> = vec![0];
    while order.len() < v {
        let before = order.len();
        for b in 1..v {
            if !order.contains(&b) && skel.bones[b].parent.is_some_and(|p| order.contains(&p)) {
                order.push(b);
            }
        }
        if order.len() == before {
            return Err(DataError::at_field(path, ":hierarchy", "bones unreachable from the root"));
        }
    }
    for (f, frame) in frames.iter().enumerate() {
        if frame[0].is_none() {
            return Err(DataError::at_line(path, frame_lines[f], "frame has no `root` line (truncated?)"));
        }
        for &b in &order {
            let bone = &skel.bones[b];
            let mut angles = [0.0; 3];
            let mut trans = skel.root_position;
            if let Some(vals) = &frame[b] {
                let kinds: &[usize] = if b == 0 { &skel.root_order } else { &bone.dof };
                for (&k, &x) in kinds.iter().zip(vals) {
                    if b == 0 {
                        if k < 3 {
                            trans[k] = x;
                        } else if k < 6 {
                            angles[k - 3] = to_rad(x);
                        }
                    } else if k < 3 {
                        angles[k] = to_rad(x);
                    }
                }
            }
            let m = euler(bone.order, angles);
            let local = math::mul(&math::mul(&bone.c, &m), &math::transpose(&bone.c));
            match bone.parent {
                None => {
                    rot[b] = local;
                    pos[b] = trans.map(|x| x * skel.unit);
                }
                Some(p) => {
                    rot[b] = math::mul(&rot[p], &local);
                    let d = math::apply(&rot[b], bone.direction.map(|x| x * bone.length * skel.unit));
                    pos[b] = math::add(pos[p], d);
                }
            }
        }
        for b in 0..v {
            for c in 0..3 {
                positions[(f * v + b) * 3 + c] = pos[b][c] as f32;
            }
        }
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Sequence::new(stem, -1, frames.len(), 1, v, positions))
}

/// Reads an ASF file (bytes decoded leniently: HDM05 headers hold Latin-1 bytes).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_asf(path: &Path) -> Result<AsfSkeleton, DataError> {
    parse_asf(&String::from_utf8_lossy(&crate::io::read_file(path)?), path)
}

/// Reads an AMC file for a skeleton.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_amc(path: &Path, skel: &AsfSkeleton) -> Result<Sequence, DataError> {
    parse_amc(&String::from_utf8_lossy(&crate::io::read_file(path)?), skel, path)
}

/// A one-person dataset from AMC sequences of one skeleton layout.
pub fn dataset_from_amc(layout: Layout, fps: f32, sequences: Vec<Sequence>) -> Dataset {
    let mut ds = Dataset::new(layout, 1, fps);
    ds.axes = "Y-up (ASF world), metres".into();
    ds.sequences = sequences;
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASF: &str = ":version 1.10\n:units\n  length 0.45\n  angle deg\n:root\n  order TX TY TZ RX RY RZ\n  axis XYZ\n  position 0 0 0\n  orientation 0 0 0\n:bonedata\n  begin\n    id 1\n    name up\n    direction 0 1 0\n    length 4.5\n    axis 0 0 0 XYZ\n    dof rx ry rz\n  end\n:hierarchy\n  begin\n    root up\n  end\n";

    #[test]
    fn one_bone_by_hand() {
        let s = parse_asf(ASF, Path::new("t.asf")).unwrap();
        assert_eq!(s.layout.joint_names, vec!["root", "up"]);
        let amc = ":FULLY-SPECIFIED\n:DEGREES\n1\nroot 45 0 0 0 0 0\nup 0 0 0\n2\nroot 0 0 0 0 0 90\nup 0 0 0\n";
        let q = parse_amc(amc, &s, Path::new("t.amc")).unwrap();
        assert_eq!(q.frames, 2);
        let unit = 0.0254 / 0.45;
        let near = |a: [f32; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (f64::from(*x) - y).abs() < 1e-6);
        // 45 units of 1/0.45 inch = 100 inch = 2.54 m.
        assert!(near(q.joint(0, 0, 0), [45.0 * unit, 0.0, 0.0]));
        assert!(near(q.joint(0, 0, 1), [45.0 * unit, 4.5 * unit, 0.0]));
        // Root turned 90 deg about z: the bone's +y direction points to -x.
        assert!(near(q.joint(1, 0, 1), [-4.5 * unit, 0.0, 0.0]));
    }

    #[test]
    fn broken_asf_amc_name_file_and_line() {
        let s = parse_asf(ASF, Path::new("t.asf")).unwrap();
        let p = Path::new("bad.amc");
        let e = parse_amc("1\nroot 0 0 0 0 0 0\nup 0 x 0\n", &s, p).unwrap_err().to_string();
        assert!(e.contains("bad.amc, line 3") && e.contains("`x`"), "{e}");
        let e = parse_amc("1\nroot 0 0 0 0 0 0\nup 0 0\n", &s, p).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("expected 3"), "{e}");
        let e = parse_amc("1\nroot 0 0 0 0 0 0\nleg 0 0 0\n", &s, p).unwrap_err().to_string();
        assert!(e.contains("unknown bone `leg`"), "{e}");
        let e = parse_amc("1\nroot 0 0 0 0 0 0\n2\nup 0 0 0\n", &s, p).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("truncated"), "{e}");
        let e = parse_amc("1\nroot 0 0 0 0 0 NaN\n", &s, p).unwrap_err().to_string();
        assert!(e.contains("finite"), "{e}");
        let e = parse_asf(&ASF.replace("length 4.5", "length four"), Path::new("bad.asf")).unwrap_err().to_string();
        assert!(e.contains("bad.asf, line 15") && e.contains("`four`"), "{e}");
        let e = parse_asf(&ASF.replace("root up", "root down"), Path::new("bad.asf")).unwrap_err().to_string();
        assert!(e.contains("unknown child bone `down`"), "{e}");
        for zero in ["length 0\n", "length -0.45\n"] {
            let e = parse_asf(&ASF.replace("length 0.45\n", zero), Path::new("bad.asf")).unwrap_err().to_string();
            assert!(e.contains("bad.asf, line 3") && e.contains("units length"), "{e}");
        }
        assert!(parse_asf("hello", Path::new("x.asf")).is_err());
    }
}
