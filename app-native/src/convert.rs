//! `amr --no-gui convert`: BVH folders, ASF/AMC folders, NTU .npz files and NTU .skeleton folders
//! into amr-skeleton-v1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use amr_core::data::{self, BvhOptions, Dataset, Precision, SecondPerson};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// Where class labels come from, shown under `amr --no-gui convert --help`.
pub const LABELS_HELP: &str = "Labels (the first that applies wins):
  --label CLASS          every sequence gets this class;
  --labels FILE          lines `NAME,CLASS` (or `NAME CLASS`), NAME = sample name (the file stem);
  --label-pattern PAT    the class is read from the sample name: `{label}` captures it, `{*}` skips text,
                         e.g. 'dataset-2_{label}_{*}_{*}' or 'HDM_{*}_{label}_{*}_{*}';
  none of them           NTU names give the action (A013 -> class A013), Bandai BVH takes with .json
                         sidecars and content_label.txt give their content label, the rest is unlabelled (-1).";

/// Arguments of `convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input: a folder of .bvh, of .asf + .amc, or of .skeleton files; or an NTU .npz file.
    pub input: PathBuf,
    /// Output amr-skeleton-v1 file (.safetensors).
    pub output: PathBuf,
    /// Input format (detected from the files when left out).
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// Every sequence gets this class.
    #[arg(long, conflicts_with_all = ["labels", "label_pattern"])]
    pub label: Option<String>,
    /// A text file of `NAME,CLASS` lines.
    #[arg(long, conflicts_with = "label_pattern")]
    pub labels: Option<PathBuf>,
    /// A sample-name pattern with `{label}` and `{*}` placeholders.
    #[arg(long)]
    pub label_pattern: Option<String>,
    /// Keep every N-th frame (e.g. 2 for 30 -> 15 fps, 4 for 120 -> 30 fps).
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Frames per second of ASF/AMC input (AMC files do not store it).
    #[arg(long, default_value_t = 120.0)]
    pub amc_fps: f32,
    /// NTU .skeleton: fill the second person of one-actor samples with a copy (NTU-120 style).
    #[arg(long)]
    pub duplicate_second_person: bool,
    /// Store positions as f32 instead of f16.
    #[arg(long)]
    pub f32: bool,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// A folder of BVH files sharing one skeleton.
    Bvh,
    /// A folder of .asf skeletons and .amc motions.
    AsfAmc,
    /// An NTU .npz (x_train, y_train, x_test, y_test).
    NtuNpz,
    /// A folder of NTU .skeleton files.
    NtuSkeleton,
}

fn files_with(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    v.sort();
    Ok(v)
}

fn detect(input: &Path) -> anyhow::Result<InputFormat> {
    if input.is_file() {
        return match input.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("npz") => Ok(InputFormat::NtuNpz),
            _ => bail!("{}: cannot tell the format of this file; pass --format", input.display()),
        };
    }
    for (ext, f) in [("bvh", InputFormat::Bvh), ("amc", InputFormat::AsfAmc), ("skeleton", InputFormat::NtuSkeleton)] {
        if !files_with(input, ext)?.is_empty() {
            return Ok(f);
        }
    }
    bail!("{}: no .bvh, .amc or .skeleton files found; pass --format", input.display())
}

/// Runs the conversion.
pub fn run(a: &ConvertArgs) -> anyhow::Result<()> {
    if a.every == 0 {
        bail!("--every 0: expected 1 or more");
    }
    let format = match a.format {
        Some(f) => f,
        None => detect(&a.input)?,
    };
    let mut ds = match format {
        InputFormat::Bvh => read_bvh_folder(&a.input)?,
        InputFormat::AsfAmc => read_asf_amc_folder(&a.input, a.amc_fps)?,
        InputFormat::NtuNpz => data::read_ntu_npz(&amr_core::io::read_file(&a.input)?, &a.input)?,
        InputFormat::NtuSkeleton => read_ntu_folder(
            &a.input,
            if a.duplicate_second_person { SecondPerson::Duplicate } else { SecondPerson::Zero },
        )?,
    };
    if a.every > 1 {
        ds.sequences = ds.sequences.iter().map(|s| s.every_nth_frame(a.every)).collect();
        ds.fps /= a.every as f32;
    }
    let how = apply_labels(&mut ds, a)?;
    ds.source = format!("converted by amr from {} ({format:?})", a.input.display());
    data::save_amr_skeleton(&ds, if a.f32 { Precision::F32 } else { Precision::F16 }, &a.output)?;
    let st = ds.stats();
    println!(
        "wrote {}: {} sequences, {} frames, {} joints, {} persons, {} fps, {} classes ({how})",
        a.output.display(),
        st.sequences,
        st.frames,
        ds.layout.joint_count(),
        ds.persons,
        ds.fps,
        ds.label_names.len()
    );
    Ok(())
}

fn read_bvh_folder(dir: &Path) -> anyhow::Result<Dataset> {
    let files = files_with(dir, "bvh")?;
    let takes = files.iter().map(|f| data::load_bvh(f, BvhOptions::default())).collect::<Result<Vec<_>, _>>()?;
    let mut ds = data::dataset_from_bvh(takes, dir)?;
    // Bandai-style sidecars: <take>.json {"content": k, "style": s} + content_label.txt / style_label.txt.
    let content = std::fs::read_to_string(dir.join("content_label.txt")).ok();
    if let Some(content) = content {
        let classes: Vec<String> = content
            .lines()
            .map(|l| l.trim().trim_start_matches("dataset-2_").trim_start_matches("dataset-1_").to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        let styles: Option<Vec<String>> = std::fs::read_to_string(dir.join("style_label.txt")).ok().map(|s| {
            s.lines().map(|l| l.trim().rsplit('_').next().unwrap_or("").to_owned()).filter(|l| !l.is_empty()).collect()
        });
        for s in &mut ds.sequences {
            let side = dir.join(format!("{}.json", s.name));
            let Ok(text) = std::fs::read_to_string(&side) else { continue };
            let v: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{}: not JSON", side.display()))?;
            let k = v
                .get("content")
                .and_then(serde_json::Value::as_i64)
                .with_context(|| format!("{}: field `content` missing or not an integer", side.display()))?;
            if k < 0 || k as usize >= classes.len() {
                bail!("{}: field `content` = {k} outside [0, {}) of content_label.txt", side.display(), classes.len());
            }
            s.label = k;
            if let Some(st) = v.get("style").and_then(serde_json::Value::as_i64) {
                s.attributes.insert("style".into(), st);
            }
        }
        ds.label_names = classes;
        if let Some(styles) = styles {
            ds.attribute_names.insert("style".into(), styles);
        }
    }
    Ok(ds)
}

fn read_asf_amc_folder(dir: &Path, fps: f32) -> anyhow::Result<Dataset> {
    let asfs = files_with(dir, "asf")?;
    if asfs.is_empty() {
        bail!("{}: no .asf skeleton file", dir.display());
    }
    let skeletons = asfs
        .iter()
        .map(|p| Ok((p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), data::load_asf(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut layout = None;
    let mut seqs = Vec::new();
    for amc in files_with(dir, "amc")? {
        let stem = amc.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        // The skeleton whose name is the longest prefix of the motion's name (HDM_bd for HDM_bd_...).
        let skel = skeletons
            .iter()
            .filter(|(n, _)| stem.starts_with(n.as_str()))
            .max_by_key(|(n, _)| n.len())
            .or(if skeletons.len() == 1 { skeletons.first() } else { None });
        let Some((_, skel)) = skel else {
            bail!("{}: no .asf in the folder matches this motion's name", amc.display())
        };
        let seq = data::load_amc(&amc, skel)?;
        match &layout {
            None => layout = Some(skel.layout.clone()),
            Some(l) if l.joint_names != skel.layout.joint_names => {
                bail!("{}: its skeleton's bones differ from the first motion's", amc.display())
            }
            Some(_) => {}
        }
        seqs.push(seq);
    }
    let Some(layout) = layout else { bail!("{}: no .amc motion files", dir.display()) };
    Ok(data::dataset_from_amc(layout, fps, seqs))
}

fn read_ntu_folder(dir: &Path, second: SecondPerson) -> anyhow::Result<Dataset> {
    let mut ds = Dataset::new(amr_core::skeleton::ntu25(), 2, 30.0);
    ds.axes = "Kinect v2 camera space, metres, centred on actor 1's first spine-mid".into();
    let mut max_action = 0;
    for f in files_with(dir, "skeleton")? {
        let text = String::from_utf8_lossy(&amr_core::io::read_file(&f)?).into_owned();
        let seq = data::parse_ntu_skeleton(&text, &f, second)?;
        max_action = max_action.max(seq.label + 1);
        ds.sequences.push(seq);
    }
    ds.label_names = (1..=max_action).map(|a| format!("A{a:03}")).collect();
    Ok(ds)
}

/// Matches `name` against a pattern with `{label}` and `{*}` placeholders; returns the label text.
pub fn match_label(pattern: &str, name: &str) -> Option<String> {
    let mut parts: Vec<(bool, &str)> = Vec::new(); // (is placeholder, text)
    let mut rest = pattern;
    while let Some(i) = rest.find('{') {
        let j = rest[i..].find('}')? + i;
        parts.push((false, &rest[..i]));
        parts.push((true, &rest[i + 1..j]));
        rest = &rest[j + 1..];
    }
    parts.push((false, rest));
    fn go<'a>(parts: &[(bool, &str)], s: &'a str, label: &mut Option<&'a str>) -> bool {
        let Some(((is_ph, text), tail)) = parts.split_first() else { return s.is_empty() };
        if !is_ph {
            return s.strip_prefix(*text).is_some_and(|r| go(tail, r, label));
        }
        for cut in 1..=s.len() {
            if !s.is_char_boundary(cut) {
                continue;
            }
            let before = *label;
            if *text == "label" {
                *label = Some(&s[..cut]);
            }
            if go(tail, &s[cut..], label) {
                return true;
            }
            *label = before;
        }
        false
    }
    let mut label = None;
    go(&parts, name, &mut label).then_some(label).flatten().map(str::to_owned)
}

fn apply_labels(ds: &mut Dataset, a: &ConvertArgs) -> anyhow::Result<String> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    let how = if let Some(class) = &a.label {
        for s in &ds.sequences {
            by_name.insert(s.name.clone(), class.clone());
        }
        format!("every sequence labelled `{class}`")
    } else if let Some(file) = &a.labels {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let mut it = line.splitn(2, [',', ' ', '\t']);
            let (Some(n), Some(c)) = (it.next(), it.next()) else {
                bail!("{}, line {}: expected `NAME,CLASS`", file.display(), i + 1)
            };
            by_name.insert(n.trim().to_owned(), c.trim().to_owned());
        }
        format!("labels from {}", file.display())
    } else if let Some(p) = &a.label_pattern {
        if !p.contains("{label}") {
            bail!("--label-pattern `{p}`: needs a `{{label}}` placeholder");
        }
        for s in &ds.sequences {
            let c = match_label(p, &s.name)
                .with_context(|| format!("--label-pattern `{p}` does not match sample `{}`", s.name))?;
            by_name.insert(s.name.clone(), c);
        }
        format!("labels from the pattern `{p}`")
    } else {
        let n = ds.sequences.iter().filter(|s| s.label >= 0).count();
        return Ok(format!("{n} labelled from the files themselves"));
    };
    let mut classes: Vec<String> = by_name.values().cloned().collect();
    classes.sort();
    classes.dedup();
    for s in &mut ds.sequences {
        let c = by_name.get(&s.name).with_context(|| format!("no label for sample `{}`", s.name))?;
        s.label = classes.iter().position(|x| x == c).map_or(-1, |i| i as i64);
    }
    ds.label_names = classes;
    Ok(how)
}

#[cfg(test)]
mod tests {
    use super::match_label;

    #[test]
    fn label_patterns() {
        assert_eq!(
            match_label("dataset-2_{label}_{*}_{*}", "dataset-2_raise-up-both-hands_normal_028").as_deref(),
            Some("raise-up-both-hands")
        );
        assert_eq!(match_label("HDM_{*}_{label}_{*}_{*}", "HDM_bd_squat1Reps_003_120").as_deref(), Some("squat1Reps"));
        assert_eq!(match_label("x_{label}", "y_a"), None);
    }
}
