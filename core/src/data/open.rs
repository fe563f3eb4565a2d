//! Reading a dataset from a file's bytes, the format chosen by the file's extension: what the apps
//! use for files opened from a dialog, dropped on the window or picked in a web page.

use std::path::Path;

use super::{BvhOptions, Dataset, dataset_from_bvh, parse_bvh, read_amr_skeleton, read_ntu_npz};
use crate::DataError;

/// The extensions [`read_dataset_bytes`] knows, for dialogs and messages.
pub const DATASET_EXTENSIONS: [&str; 3] = ["safetensors", "bvh", "npz"];

/// Reads `bytes` as an amr-skeleton-v1 file (`.safetensors`), one BVH take (`.bvh`, centimetres to
/// metres) or an NTU npz (`.npz`); `path` names the file in errors and picks the reader.
pub fn read_dataset_bytes(bytes: &[u8], path: &Path) -> Result<Dataset, DataError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "safetensors" => read_amr_skeleton(bytes, path),
        "npz" => read_ntu_npz(bytes, path),
        "bvh" => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| DataError::at_field(path, "text", format!("a BVH file is UTF-8 text: {e}")))?;
            let take = parse_bvh(text, path, BvhOptions::default())?;
            dataset_from_bvh(vec![take], path)
        }
        other => Err(DataError::at_field(
            path,
            "extension",
            format!(
                "`.{other}` is not a dataset format here; expected one of {}",
                DATASET_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Precision, write_amr_skeleton};

    #[test]
    fn reads_by_extension_and_names_what_it_expects() {
        let ds = crate::test_data::web_demo();
        let bytes = write_amr_skeleton(&ds, Precision::F32).unwrap();
        let back = read_dataset_bytes(&bytes, Path::new("d.SafeTensors")).unwrap();
        assert_eq!(back.len(), ds.len());
        let bvh = "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n  JOINT Head\n  {\n    OFFSET 0 50 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n    End Site\n    {\n      OFFSET 0 10 0\n    }\n  }\n}\nMOTION\nFrames: 2\nFrame Time: 0.033333\n0 100 0 0 0 0 0 0 0\n10 100 0 0 0 0 0 0 0\n";
        let one = read_dataset_bytes(bvh.as_bytes(), Path::new("walk.bvh")).unwrap();
        assert_eq!((one.len(), one.sequences[0].frames), (1, 2));
        // The root moved 10 cm in x between the frames: 0.1 m.
        let dx = one.sequences[0].joint(1, 0, 0)[0] - one.sequences[0].joint(0, 0, 0)[0];
        assert!((dx - 0.1).abs() < 1e-6, "{dx}");
        let e = read_dataset_bytes(b"x", Path::new("notes.txt")).unwrap_err().to_string();
        assert!(e.contains("notes.txt") && e.contains(".bvh") && e.contains(".txt"), "{e}");
        let e = read_dataset_bytes(&[0xff, 0xfe], Path::new("bad.bvh")).unwrap_err().to_string();
        assert!(e.contains("bad.bvh") && e.contains("UTF-8"), "{e}");
    }
}
