//! amr-skeleton-v1: the native dataset file (a safetensors file; see the README's "Formats").

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{Dataset, Sequence};
use crate::error::DataError;
use crate::skeleton::Layout;

/// The value of the `format` metadata key.
pub const FORMAT: &str = "amr-skeleton-v1";

/// Floating-point precision of the stored positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// IEEE half: 2 bytes per value (about 0.5 mm resolution at 1 m).
    F16,
    /// IEEE single: 4 bytes per value.
    F32,
}

const RESERVED: [&str; 4] = ["positions", "offsets", "label", "parents"];

/// Reads a dataset from the bytes of an amr-skeleton-v1 file; `path` names the file in errors.
pub fn read_amr_skeleton(bytes: &[u8], path: &Path) -> Result<Dataset, DataError> {
    let field = |f: &str, m: String| DataError::at_field(path, f, m);
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| DataError::in_file(path, format!("not a safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| DataError::in_file(path, e.to_string()))?;
    let meta: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    match meta.get("format").map(String::as_str) {
        Some(FORMAT) => {}
        Some(other) => return Err(field("format", format!("unknown format `{other}`, expected `{FORMAT}`"))),
        None => return Err(field("format", format!("missing; expected `{FORMAT}`"))),
    }
    let tensor = |name: &str| st.tensor(name).map_err(|_| field(name, "missing tensor".into()));

    let pos = tensor("positions")?;
    let shape = pos.shape().to_vec();
    if shape.len() != 4 || shape[3] != 3 {
        return Err(field("positions", format!("shape {shape:?}, expected [F, M, V, 3]")));
    }
    let (total_frames, persons, joints) = (shape[0], shape[1], shape[2]);
    if persons == 0 || joints == 0 {
        return Err(field("positions", format!("shape {shape:?}: at least one person and one joint expected")));
    }
    let positions = floats(&pos).map_err(|m| field("positions", m))?;
    if let Some(i) = positions.iter().position(|x| !x.is_finite()) {
        let fl = persons * joints * 3;
        return Err(field("positions", format!("non-finite value {} at frame {}", positions[i], i / fl.max(1))));
    }
    let offsets = ints(&tensor("offsets")?).map_err(|m| field("offsets", m))?;
    if offsets.first() != Some(&0) {
        return Err(field("offsets", "must start at 0".into()));
    }
    if offsets.windows(2).any(|w| w[1] <= w[0]) {
        return Err(field("offsets", "must be strictly increasing".into()));
    }
    if offsets.last().copied() != Some(total_frames as i64) {
        return Err(field("offsets", format!("last offset {:?} != frame count {total_frames}", offsets.last())));
    }
    let n = offsets.len() - 1;

    let label_names: Vec<String> = json_list(&meta, "label_names", path)?.unwrap_or_default();
    let labels = ints(&tensor("label")?).map_err(|m| field("label", m))?;
    if labels.len() != n {
        return Err(field("label", format!("length {} but {n} sequences", labels.len())));
    }
    if let Some(bad) = labels.iter().find(|&&l| l < -1 || l >= label_names.len() as i64) {
        return Err(field("label", format!("value {bad} outside [-1, {})", label_names.len())));
    }
    let joint_names: Vec<String> =
        json_list(&meta, "joint_names", path)?.unwrap_or_else(|| (0..joints).map(|j| format!("joint{j}")).collect());
    if joint_names.len() != joints {
        return Err(field("joint_names", format!("{} names for {joints} joints", joint_names.len())));
    }
    let layout = match st.tensor("parents") {
        Ok(p) => {
            let parents = ints(&p).map_err(|m| field("parents", m))?;
            if parents.len() != joints {
                return Err(field("parents", format!("{} entries for {joints} joints", parents.len())));
            }
            let ntu = crate::skeleton::ntu25();
            if parents == ntu.parents_i64() {
                // The NTU tree: keep its index-based body parts (reference spec 6.5).
                Layout { joint_names: joint_names.clone(), ..ntu }
            } else {
                Layout::from_parents(&format!("file{joints}"), &parents, &joint_names)
                    .map_err(|e| field("parents", e.to_string()))?
            }
        }
        Err(_) if joints == 25 => crate::skeleton::ntu25(),
        Err(_) => return Err(field("parents", format!("missing, and {joints} joints is no built-in layout"))),
    };
    let fps = match meta.get("fps") {
        Some(s) => s
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or_else(|| field("fps", format!("`{s}` is not a positive number")))?,
        None => 30.0,
    };
    let sample_names: Option<Vec<String>> = json_list(&meta, "sample_names", path)?;
    if let Some(names) = &sample_names
        && names.len() != n
    {
        return Err(field("sample_names", format!("{} names for {n} sequences", names.len())));
    }

    let mut attributes: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for name in st.names() {
        if RESERVED.contains(&name) {
            continue;
        }
        let t = st.tensor(name).map_err(|e| field(name, e.to_string()))?;
        let values = ints(&t).map_err(|m| field(name, m))?;
        if t.shape() != [n] {
            return Err(field(name, format!("shape {:?}, expected [{n}] (one value per sequence)", t.shape())));
        }
        attributes.insert(name.to_owned(), values);
    }
    let mut attribute_names = BTreeMap::new();
    for key in attributes.keys() {
        if let Some(names) = json_list(&meta, &format!("{key}_names"), path)? {
            attribute_names.insert(key.clone(), names);
        }
    }

    let fl = persons * joints * 3;
    let sequences = (0..n)
        .map(|i| {
            let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
            let mut s = Sequence::new(
                sample_names.as_ref().map_or_else(String::new, |v| v[i].clone()),
                labels[i],
                b - a,
                persons,
                joints,
                positions[a * fl..b * fl].to_vec(),
            );
            s.attributes = attributes.iter().map(|(k, v)| (k.clone(), v[i])).collect();
            s
        })
        .collect();
    Ok(Dataset {
        layout,
        persons,
        fps,
        label_names,
        attribute_names,
        axes: meta.get("axes").cloned().unwrap_or_default(),
        source: meta.get("source").cloned().unwrap_or_default(),
        license: meta.get("license").cloned().unwrap_or_default(),
        sequences,
    })
}

/// Reads an amr-skeleton-v1 file from disk.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_amr_skeleton(path: &Path) -> Result<Dataset, DataError> {
    read_amr_skeleton(&crate::io::read_file(path)?, path)
}

/// A dataset this writer refuses to write, with the reason (what does not fit, or what the reader would
/// refuse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(pub String);

/// Serialises a dataset as amr-skeleton-v1 bytes. Fails on an inconsistent dataset (a sequence whose
/// shape differs from the dataset's, naming it) and on anything the reader would refuse (an empty
/// sequence, a value beyond the precision's range, a label out of range), so that no command writes
/// a file it cannot read back.
pub fn write_amr_skeleton(ds: &Dataset, precision: Precision) -> Result<Vec<u8>, WriteError> {
    let bytes = serialize(ds, precision).map_err(WriteError)?;
    // Never a file the reader refuses (an empty sequence, a value beyond f16, a label out of range...).
    read_amr_skeleton(&bytes, Path::new("the file to write"))
        .map_err(|e| WriteError(format!("not written, it would not read back: {e}")))?;
    Ok(bytes)
}

/// The file's bytes, unchecked.
fn serialize(ds: &Dataset, precision: Precision) -> Result<Vec<u8>, String> {
    let (m, v) = (ds.persons, ds.layout.joint_count());
    let mut offsets = vec![0i64];
    let mut flat: Vec<f32> = Vec::new();
    for (i, s) in ds.sequences.iter().enumerate() {
        if s.persons != m || s.joints != v || s.positions.len() != s.frames * m * v * 3 {
            return Err(format!(
                "sequence {i} `{}` has shape [{}, {}, {}] but the dataset is [*, {m}, {v}]",
                s.name, s.frames, s.persons, s.joints
            ));
        }
        flat.extend_from_slice(&s.positions);
        offsets.push(offsets[offsets.len() - 1] + s.frames as i64);
    }
    let frames = flat.len() / (m * v * 3).max(1);
    let pos_bytes: Vec<u8> = match precision {
        Precision::F16 => flat.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect(),
        Precision::F32 => flat.iter().flat_map(|&x| x.to_le_bytes()).collect(),
    };
    let i64_bytes = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let n = ds.sequences.len();
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = vec![
        (
            "positions".into(),
            if precision == Precision::F16 { Dtype::F16 } else { Dtype::F32 },
            vec![frames, m, v, 3],
            pos_bytes,
        ),
        ("offsets".into(), Dtype::I64, vec![n + 1], i64_bytes(&offsets)),
        ("label".into(), Dtype::I64, vec![n], i64_bytes(&ds.sequences.iter().map(|s| s.label).collect::<Vec<_>>())),
        ("parents".into(), Dtype::I64, vec![v], i64_bytes(&ds.layout.parents_i64())),
    ];
    for key in ds.attribute_keys() {
        let vals: Vec<i64> = ds.sequences.iter().map(|s| s.attributes.get(&key).copied().unwrap_or(-1)).collect();
        owned.push((key, Dtype::I64, vec![n], i64_bytes(&vals)));
    }
    let views = owned
        .iter()
        .map(|(name, dt, shape, data)| TensorView::new(*dt, shape.clone(), data).map(|t| (name.clone(), t)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let mut meta = HashMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("label_names".to_owned(), json(&ds.label_names)),
        ("joint_names".to_owned(), json(&ds.layout.joint_names)),
        ("fps".to_owned(), format!("{}", ds.fps)),
        ("axes".to_owned(), ds.axes.clone()),
        ("source".to_owned(), ds.source.clone()),
        ("license".to_owned(), ds.license.clone()),
    ]);
    if ds.sequences.iter().any(|s| !s.name.is_empty()) {
        let names: Vec<String> = ds.sequences.iter().map(|s| s.name.clone()).collect();
        meta.insert("sample_names".into(), json(&names));
    }
    for (k, names) in &ds.attribute_names {
        meta.insert(format!("{k}_names"), json(names));
    }
    safetensors::serialize(views, Some(meta)).map_err(|e| e.to_string())
}

/// Writes a dataset to disk atomically (a temporary file renamed over the target), so a failure
/// never leaves a half-written file in place of a good one.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_amr_skeleton(ds: &Dataset, precision: Precision, path: &Path) -> Result<(), DataError> {
    let bytes = write_amr_skeleton(ds, precision).map_err(|e| DataError::in_file(path, e.0))?;
    crate::io::write_atomically(path, &bytes)
}

fn floats(t: &TensorView<'_>) -> Result<Vec<f32>, String> {
    let d = t.data();
    match t.dtype() {
        Dtype::F16 => Ok(d.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
        Dtype::F32 => Ok(d.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        other => Err(format!("dtype {other:?}, expected F16 or F32")),
    }
}

fn ints(t: &TensorView<'_>) -> Result<Vec<i64>, String> {
    let d = t.data();
    match t.dtype() {
        Dtype::I64 => Ok(d.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()),
        Dtype::I32 => Ok(d.chunks_exact(4).map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect()),
        other => Err(format!("dtype {other:?}, expected I64")),
    }
}

fn json_list(meta: &HashMap<String, String>, key: &str, path: &Path) -> Result<Option<Vec<String>>, DataError> {
    meta.get(key)
        .map(|s| {
            serde_json::from_str::<Vec<String>>(s)
                .map_err(|e| DataError::at_field(path, key, format!("not a JSON array of strings: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::ntu25;

    fn tiny() -> Dataset {
        let mut ds = Dataset::new(ntu25(), 2, 30.0);
        ds.label_names = vec!["a".into(), "b".into()];
        ds.attribute_names.insert("split".into(), vec!["train".into(), "test".into()]);
        for (i, frames) in [3usize, 5].into_iter().enumerate() {
            let pos: Vec<f32> = (0..frames * 2 * 25 * 3).map(|k| (k as f32 * 0.37 + i as f32).sin()).collect();
            let mut s = Sequence::new(format!("s{i}"), i as i64, frames, 2, 25, pos);
            s.attributes.insert("split".into(), i as i64);
            ds.sequences.push(s);
        }
        ds
    }

    #[test]
    fn round_trip_f32_is_exact_and_f16_within_rounding() {
        let ds = tiny();
        let p = Path::new("mem.safetensors");
        let back = read_amr_skeleton(&write_amr_skeleton(&ds, Precision::F32).unwrap(), p).unwrap();
        assert_eq!(back, ds);
        let half = read_amr_skeleton(&write_amr_skeleton(&ds, Precision::F16).unwrap(), p).unwrap();
        assert_eq!(half.sequences.len(), 2);
        assert_eq!(half.sequences[1].attributes["split"], 1);
        assert_eq!(half.attribute_names["split"], vec!["train", "test"]);
        for (a, b) in half.sequences.iter().zip(&ds.sequences) {
            for (x, y) in a.positions.iter().zip(&b.positions) {
                assert!((x - y).abs() <= 1e-3 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }

    fn with_tensor(
        ds: &Dataset,
        name: &str,
        dt: Dtype,
        shape: Vec<usize>,
        data: &[u8],
        meta_patch: &[(&str, &str)],
    ) -> Vec<u8> {
        let bytes = write_amr_skeleton(ds, Precision::F32).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let (_, h) = SafeTensors::read_metadata(&bytes).unwrap();
        let mut meta = h.metadata().clone().unwrap();
        for (k, v) in meta_patch {
            if v.is_empty() {
                meta.remove(*k);
            } else {
                meta.insert((*k).into(), (*v).into());
            }
        }
        let mut tensors: Vec<(String, TensorView<'_>)> = st.tensors().into_iter().filter(|(n, _)| n != name).collect();
        if !data.is_empty() || shape.contains(&0) {
            tensors.push((name.into(), TensorView::new(dt, shape, data).unwrap()));
        }
        safetensors::serialize(tensors, Some(meta)).unwrap()
    }

    fn err_of(bytes: &[u8]) -> String {
        read_amr_skeleton(bytes, Path::new("bad.safetensors")).unwrap_err().to_string()
    }

    #[test]
    fn broken_files_name_the_file_and_field() {
        let ds = tiny();
        let i64b = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let e = err_of(&with_tensor(&ds, "offsets", Dtype::I64, vec![3], &i64b(&[0, 5, 3]), &[]));
        assert!(e.contains("bad.safetensors") && e.contains("`offsets`") && e.contains("increasing"), "{e}");
        let e = err_of(&with_tensor(&ds, "offsets", Dtype::I64, vec![3], &i64b(&[0, 3, 7]), &[]));
        assert!(e.contains("`offsets`") && e.contains("frame count 8"), "{e}");
        let e = err_of(&with_tensor(&ds, "label", Dtype::I64, vec![2], &i64b(&[0, 5]), &[]));
        assert!(e.contains("`label`") && e.contains("value 5"), "{e}");
        let e = err_of(&with_tensor(&ds, "label", Dtype::I64, vec![], &[], &[]));
        assert!(e.contains("`label`") && e.contains("missing"), "{e}");
        let e = err_of(&with_tensor(&ds, "split", Dtype::I64, vec![3], &i64b(&[0, 1, 1]), &[]));
        assert!(e.contains("`split`") && e.contains("one value per sequence"), "{e}");
        let e = err_of(&with_tensor(&ds, "x", Dtype::I64, vec![], &[], &[("format", "other-v9")]));
        assert!(e.contains("`format`") && e.contains("other-v9"), "{e}");
        let e = err_of(&with_tensor(&ds, "x", Dtype::I64, vec![], &[], &[("label_names", "not json")]));
        assert!(e.contains("`label_names`"), "{e}");
        let mut nan = tiny();
        nan.sequences[1].positions[200] = f32::NAN;
        let e = err_of(&serialize(&nan, Precision::F32).unwrap());
        assert!(e.contains("`positions`") && e.contains("non-finite"), "{e}");
        let bytes = write_amr_skeleton(&ds, Precision::F32).unwrap();
        let e = err_of(&bytes[..bytes.len() / 2]);
        assert!(e.contains("bad.safetensors"), "{e}");
        let e = err_of(b"garbage");
        assert!(e.contains("not a safetensors file"), "{e}");
        // The writer refuses what the reader would: an empty sequence, a value beyond f16's range.
        let mut empty = tiny();
        empty.sequences[0] = Sequence::new(String::from("s0"), 0, 0, 2, 25, Vec::new());
        let e = write_amr_skeleton(&empty, Precision::F32).unwrap_err().0;
        assert!(e.contains("would not read back") && e.contains("`offsets`"), "{e}");
        let mut far = tiny();
        far.sequences[0].positions[4] = 1e6;
        assert!(write_amr_skeleton(&far, Precision::F32).is_ok());
        let e = write_amr_skeleton(&far, Precision::F16).unwrap_err().0;
        assert!(e.contains("would not read back") && e.contains("non-finite"), "{e}");
        // No persons: refused (the trainer would divide by the person count).
        let e = err_of(&with_tensor(&ds, "positions", Dtype::F32, vec![8, 0, 25, 3], &[], &[]));
        assert!(e.contains("`positions`") && e.contains("at least one person"), "{e}");
        // NTU-25's parents on a file of another joint count: refused, not a layout of 25 parents for 3
        // joints that views would index past the end of.
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut three = Dataset::new(Layout::from_parents("t", &[-1, 0, 1], &names).unwrap(), 1, 30.0);
        three.sequences.push(Sequence::new(String::from("s"), -1, 2, 1, 3, vec![0.5; 18]));
        let ntu_parents = i64b(&ntu25().parents_i64());
        let e = err_of(&with_tensor(&three, "parents", Dtype::I64, vec![25], &ntu_parents, &[]));
        assert!(e.contains("`parents`") && e.contains("25 entries for 3 joints"), "{e}");
    }
}
