//! NTU RGB+D raw `.skeleton` text files, with the body denoising of the public NTU pipelines
//! (reference spec 4.1): bodies of 11 frames or fewer are dropped; a frame is noisy when the x-spread
//! of its joints exceeds 0.8 x the y-spread, and a body with at least 69.754 % noisy frames is dropped;
//! the remaining bodies are ranked by motion (sum of per-axis variance); actor 1 is the most moving, and
//! each further body goes to actor 1 if it does not overlap actor 1 in time, else to actor 2 if it does
//! not overlap actor 2, else it is dropped. Frames where both actors are missing are removed. Then the
//! sequence is translated so that joint 2 (spine mid) of actor 1's first frame is the origin, missing
//! actors staying zero.

use std::collections::BTreeMap;
use std::path::Path;

use super::Sequence;
use crate::error::DataError;

/// What to put in the second person slot of a one-actor sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SecondPerson {
    /// All zeros (the NTU-60 pipeline).
    #[default]
    Zero,
    /// A copy of actor 1 (the NTU-120 pipeline).
    Duplicate,
}

/// Thresholds of the denoising, as the public pipeline sets them.
pub const MIN_BODY_FRAMES: usize = 11;
/// x-spread / y-spread above which a frame counts as noisy.
pub const SPREAD_RATIO: f32 = 0.8;
/// Share of noisy frames at which a body is dropped.
pub const NOISY_FRAME_SHARE: f32 = 0.69754;

#[derive(Debug, Clone)]
struct Body {
    /// Frame index -> 25 x xyz.
    frames: BTreeMap<usize, [[f32; 3]; 25]>,
}

impl Body {
    fn span(&self) -> (usize, usize) {
        (self.frames.keys().next().copied().unwrap_or(0), self.frames.keys().last().copied().unwrap_or(0))
    }
    fn motion(&self, only: Option<&[usize]>) -> f32 {
        let pts: Vec<[f32; 3]> = match only {
            Some(keys) => keys.iter().filter_map(|k| self.frames.get(k)).flat_map(|f| f.iter().copied()).collect(),
            None => self.frames.values().flat_map(|f| f.iter().copied()).collect(),
        };
        if pts.is_empty() {
            return 0.0;
        }
        let n = pts.len() as f32;
        (0..3)
            .map(|c| {
                let mean = pts.iter().map(|p| p[c]).sum::<f32>() / n;
                pts.iter().map(|p| (p[c] - mean).powi(2)).sum::<f32>() / n
            })
            .sum()
    }
}

/// Parses `.skeleton` text into its bodies (by body ID) over `frame count` frames.
fn parse_bodies(text: &str, path: &Path) -> Result<(usize, Vec<Body>), DataError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty());
    let last_line = text.lines().count();
    let mut next = |what: &str| {
        lines.next().ok_or_else(|| {
            DataError::at_line(path, last_line, format!("file ends where {what} was expected (truncated?)"))
        })
    };
    let int = |(ln, s): (usize, &str), what: &str| {
        s.parse::<usize>().map_err(|_| DataError::at_line(path, ln, format!("{what} `{s}` is not a whole number")))
    };
    let frame_count = int(next("the frame count")?, "frame count")?;
    let mut bodies: BTreeMap<String, Body> = BTreeMap::new();
    for f in 0..frame_count {
        let (ln, txt) = next(&format!("the body count of frame {}", f + 1))?;
        let body_count = int((ln, txt), "body count")?;
        if body_count > 6 {
            return Err(DataError::at_line(path, ln, format!("frame {}: {body_count} bodies (at most 6)", f + 1)));
        }
        for _ in 0..body_count {
            let (ln, info) = next("a body info line")?;
            let id = info.split_whitespace().next().unwrap_or("").to_owned();
            if info.split_whitespace().count() != 10 {
                return Err(DataError::at_line(path, ln, "body info line should hold 10 values"));
            }
            let joints = int(next("the joint count")?, "joint count")?;
            if joints != 25 {
                return Err(DataError::at_line(path, ln + 1, format!("{joints} joints, expected 25")));
            }
            let mut frame = [[0.0f32; 3]; 25];
            for j in frame.iter_mut() {
                let (ln, l) = next("a joint line")?;
                let vals: Vec<&str> = l.split_whitespace().collect();
                if vals.len() < 3 {
                    return Err(DataError::at_line(
                        path,
                        ln,
                        format!("joint line has {} values, expected 12", vals.len()),
                    ));
                }
                for c in 0..3 {
                    j[c] = vals[c].parse::<f32>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                        DataError::at_line(path, ln, format!("coordinate `{}` is not a finite number", vals[c]))
                    })?;
                }
            }
            bodies.entry(id).or_insert_with(|| Body { frames: BTreeMap::new() }).frames.insert(f, frame);
        }
    }
    Ok((frame_count, bodies.into_values().collect()))
}

fn denoise(mut bodies: Vec<Body>) -> Vec<Body> {
    if bodies.len() <= 1 {
        return bodies;
    }
    bodies.retain(|b| b.frames.len() > MIN_BODY_FRAMES);
    let mut ranked: Vec<(f32, Body)> = Vec::new();
    for b in bodies {
        let valid: Vec<usize> = b
            .frames
            .iter()
            .filter(|(_, j)| {
                let spread = |c: usize| {
                    let (lo, hi) = j.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p[c]), hi.max(p[c])));
                    hi - lo
                };
                spread(0) <= SPREAD_RATIO * spread(1)
            })
            .map(|(k, _)| *k)
            .collect();
        let noisy_share = 1.0 - valid.len() as f32 / b.frames.len() as f32;
        if noisy_share >= NOISY_FRAME_SHARE {
            continue;
        }
        let motion = b.motion(None).min(if valid.is_empty() { f32::MAX } else { b.motion(Some(&valid)) });
        ranked.push((motion, b));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().map(|(_, b)| b).collect()
}

/// Reads `.skeleton` text into a 2-person NTU-25 sequence, denoised and centred (module docs).
pub fn parse_ntu_skeleton(text: &str, path: &Path, second: SecondPerson) -> Result<Sequence, DataError> {
    let (frame_count, bodies) = parse_bodies(text, path)?;
    let bodies = denoise(bodies);
    let Some(first) = bodies.first() else {
        return Err(DataError::in_file(path, "no body left (empty file or all bodies noise)"));
    };
    let mut actors: [BTreeMap<usize, [[f32; 3]; 25]>; 2] = [first.frames.clone(), BTreeMap::new()];
    let mut spans = [first.span(), (0usize, 0usize)];
    let overlaps = |a: (usize, usize), b: (usize, usize)| a.1.min(b.1) as i64 - a.0.max(b.0) as i64 > 0;
    for b in bodies.iter().skip(1) {
        let s = b.span();
        for (slot, span) in spans.iter_mut().enumerate() {
            if !overlaps(*span, s) {
                actors[slot].extend(b.frames.iter().map(|(k, v)| (*k, *v)));
                *span = (span.0.min(s.0), span.1.max(s.1));
                break;
            }
        }
    }
    let kept: Vec<usize> =
        (0..frame_count).filter(|f| actors[0].contains_key(f) || actors[1].contains_key(f)).collect();
    let one_actor = actors[1].is_empty();
    let origin = actors[0].values().next().map_or([0.0; 3], |f| f[1]);
    let mut positions = vec![0.0f32; kept.len() * 2 * 25 * 3];
    for (t, f) in kept.iter().enumerate() {
        for m in 0..2 {
            let src = if m == 1 && one_actor && second == SecondPerson::Duplicate {
                actors[0].get(f)
            } else {
                actors[m].get(f)
            };
            if let Some(joints) = src {
                for (v, p) in joints.iter().enumerate() {
                    for c in 0..3 {
                        positions[((t * 2 + m) * 25 + v) * 3 + c] = p[c] - origin[c];
                    }
                }
            }
        }
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let label = ntu_action_from_name(&stem).map_or(-1, |a| a as i64 - 1);
    let mut seq = Sequence::new(stem.clone(), label, kept.len(), 2, 25, positions);
    for (key, letter) in [("setup", 'S'), ("camera", 'C'), ("subject", 'P'), ("replication", 'R')] {
        if let Some(v) = ntu_field(&stem, letter) {
            seq.attributes.insert(key.into(), v as i64);
        }
    }
    Ok(seq)
}

/// The 1-based action number `AXXX` in an NTU sample name such as `S001C002P003R002A013`.
pub fn ntu_action_from_name(name: &str) -> Option<usize> {
    ntu_field(name, 'A')
}

fn ntu_field(name: &str, letter: char) -> Option<usize> {
    let i = name.find(letter)?;
    let digits: String = name[i + 1..].chars().take(3).collect();
    (digits.len() == 3).then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One body's lines for a frame: a standing figure (taller than wide) displaced by `dx`.
    fn body_lines(id: &str, dx: f32, wide: bool) -> String {
        let mut s = format!("{id} 0 1 1 1 1 0 0.1 0.2 2\n25\n");
        for j in 0..25 {
            let (x, y) =
                if wide { (j as f32 * 0.1 + dx, j as f32 * 0.01) } else { (j as f32 * 0.01 + dx, j as f32 * 0.1) };
            s += &format!("{x} {y} 3.0 0 0 0 0 0 0 0 0 2\n");
        }
        s
    }

    fn file(frames: &[Vec<(&str, f32, bool)>]) -> String {
        let mut s = format!("{}\n", frames.len());
        for f in frames {
            s += &format!("{}\n", f.len());
            for (id, dx, wide) in f {
                s += &body_lines(id, *dx, *wide);
            }
        }
        s
    }

    #[test]
    fn two_bodies_a_missing_frame_and_centring() {
        // 14 frames; body A moves (dx = f * 0.1), body B stands still; frame 5 has no body at all.
        let frames: Vec<Vec<(&str, f32, bool)>> = (0..14)
            .map(|f| if f == 5 { vec![] } else { vec![("B", 0.5, false), ("A", f as f32 * 0.1, false)] })
            .collect();
        let s =
            parse_ntu_skeleton(&file(&frames), Path::new("S001C001P001R001A007.skeleton"), SecondPerson::Zero).unwrap();
        assert_eq!(s.frames, 13, "the frame with no body is removed");
        assert_eq!(s.label, 6);
        assert_eq!(s.attributes["subject"], 1);
        // Actor 1 is the moving body A, centred on its first frame's spine mid (joint 2 = index 1).
        let origin = [0.01f32, 0.1, 3.0];
        let a0 = s.joint(0, 0, 1);
        assert!(a0.iter().zip(&[0.0, 0.0, 0.0]).all(|(x, y)| (x - y).abs() < 1e-6), "{a0:?}");
        let a1 = s.joint(1, 0, 0);
        assert!((a1[0] - (0.1 - origin[0])).abs() < 1e-6);
        // Actor 2 is B, at dx = 0.5.
        let b = s.joint(0, 1, 0);
        assert!((b[0] - (0.5 - origin[0])).abs() < 1e-6, "{b:?}");
    }

    #[test]
    fn noise_bodies_are_dropped_and_one_actor_fills_per_option() {
        // A short body (<= 11 frames) and a wide (lying, noisy) body are dropped.
        let frames: Vec<Vec<(&str, f32, bool)>> = (0..20)
            .map(|f| {
                let mut v = vec![("A", f as f32 * 0.01, false), ("W", 0.0, true)];
                if f < 5 {
                    v.push(("S", 1.0, false));
                }
                v
            })
            .collect();
        let text = file(&frames);
        let z = parse_ntu_skeleton(&text, Path::new("x.skeleton"), SecondPerson::Zero).unwrap();
        assert!(z.person_absent(1));
        let d = parse_ntu_skeleton(&text, Path::new("x.skeleton"), SecondPerson::Duplicate).unwrap();
        assert_eq!(d.joint(7, 1, 3), d.joint(7, 0, 3));
        assert_eq!(d.frames, 20);
    }

    #[test]
    fn truncated_and_malformed_files_name_the_line() {
        let frames: Vec<Vec<(&str, f32, bool)>> = (0..3).map(|_| vec![("A", 0.0, false)]).collect();
        let text = file(&frames);
        let cut: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
        let e = parse_ntu_skeleton(&cut, Path::new("t.skeleton"), SecondPerson::Zero).unwrap_err().to_string();
        assert!(e.contains("t.skeleton") && e.contains("truncated"), "{e}");
        let bad = text.replacen("3.0 0 0", "abc 0 0", 1);
        let e = parse_ntu_skeleton(&bad, Path::new("t.skeleton"), SecondPerson::Zero).unwrap_err().to_string();
        assert!(e.contains("line 5") && e.contains("`abc`"), "{e}");
        let e = parse_ntu_skeleton(&text.replacen("\n25\n", "\n24\n", 1), Path::new("t.skeleton"), SecondPerson::Zero)
            .unwrap_err()
            .to_string();
        assert!(e.contains("24 joints"), "{e}");
        let e = parse_ntu_skeleton("x\n", Path::new("t.skeleton"), SecondPerson::Zero).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("frame count"), "{e}");
        let e = parse_ntu_skeleton("2\n0\n0\n", Path::new("t.skeleton"), SecondPerson::Zero).unwrap_err().to_string();
        assert!(e.contains("no body"), "{e}");
    }
}
