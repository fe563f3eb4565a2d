//! NumPy `.npy` arrays and `.npz` archives (read both, write `.npy`), enough for NTU and feature files.

use std::io::{Cursor, Read};
use std::path::Path;

use crate::error::DataError;

/// A numeric array read from `.npy`, converted to f32 (or i64 for integer arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape, C order.
    pub shape: Vec<usize>,
    /// Values as f32, row-major.
    pub data: Vec<f32>,
}

/// Parses the bytes of one `.npy` array; `path` and `field` name it in errors.
pub fn parse_npy(bytes: &[u8], path: &Path, field: &str) -> Result<NpyArray, DataError> {
    let err = |m: String| DataError::at_field(path, field, m);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err("not a .npy array (bad magic)".into()));
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        _ => return Err(err(format!("unsupported .npy version {major}"))),
    };
    let header = bytes.get(start..start + hlen).ok_or_else(|| err("header runs past the end (truncated?)".into()))?;
    let header = String::from_utf8_lossy(header);
    let descr = dict_value(&header, "descr").ok_or_else(|| err("header has no `descr`".into()))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if dict_value(&header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(err("Fortran-ordered arrays are not supported; save with C order".into()));
    }
    let shape_txt = dict_value(&header, "shape").ok_or_else(|| err("header has no `shape`".into()))?;
    let shape = shape_txt
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| err(format!("shape entry `{s}` is not a number"))))
        .collect::<Result<Vec<usize>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| err(format!("shape {shape:?} has more elements than can be addressed")))?;
    let body = &bytes[start + hlen..];
    let (size, conv): (usize, fn(&[u8]) -> f32) = match descr {
        "<f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32),
        "<f2" => (2, |b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        "<i8" => (8, |b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32),
        "<i4" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        "|u1" | "|b1" => (1, |b| f32::from(b[0])),
        other => return Err(err(format!("dtype `{other}` not supported (expected <f4, <f8, <f2, <i8, <i4, |u1)"))),
    };
    let wanted = count.checked_mul(size).filter(|&w| w <= body.len()).ok_or_else(|| {
        err(format!(
            "{} data bytes for shape {shape:?}, expected {} (truncated?)",
            body.len(),
            count.saturating_mul(size)
        ))
    })?;
    let data = body[..wanted].chunks_exact(size).map(conv).collect();
    Ok(NpyArray { shape, data })
}

fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let i = header.find(&format!("'{key}'")).or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = header[i + key.len() + 2..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') { rest.find(')').map(|e| e + 1)? } else { rest.find(',').unwrap_or(rest.len()) };
    Some(rest[..end].trim())
}

/// Serialises a little-endian f32 array as `.npy` (version 1.0).
pub fn write_npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    out
}

/// Serialises f32 arrays `(name, shape, values)` as an `.npz` archive of stored members, as
/// `np.savez` writes them (the layout [`read_npz_members`] and the NTU reader read).
pub fn write_npz_f32(members: &[(&str, &[usize], &[f32])]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in members {
        zip.start_file(format!("{name}.npy"), options).map_err(std::io::Error::other)?;
        zip.write_all(&write_npy_f32(shape, data))?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// The largest expansion of a deflated member over its compressed size (deflate's limit is about 1032).
const MAX_INFLATION: u64 = 1032;

/// Reads named arrays from the bytes of an `.npz` archive. A missing member is an error naming it.
pub fn read_npz_members(bytes: &[u8], path: &Path, names: &[&str]) -> Result<Vec<NpyArray>, DataError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| DataError::in_file(path, format!("not an .npz (zip) archive: {e}")))?;
    names
        .iter()
        .map(|name| {
            let member = format!("{name}.npy");
            let f = zip.by_name(&member).map_err(|_| DataError::at_field(path, *name, "missing array".to_owned()))?;
            // Deflate expands at most about 1032-fold: a member declaring more than that over its
            // compressed bytes is not read (a zip bomb, or a damaged directory).
            let cap = f.compressed_size().saturating_mul(MAX_INFLATION).saturating_add(1 << 20);
            if f.size() > cap {
                return Err(DataError::at_field(
                    path,
                    *name,
                    format!("declares {} bytes from {} compressed ones", f.size(), f.compressed_size()),
                ));
            }
            let mut buf = Vec::new();
            f.take(cap)
                .read_to_end(&mut buf)
                .map_err(|e| DataError::at_field(path, *name, format!("cannot decompress: {e}")))?;
            parse_npy(&buf, path, name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_errors() {
        let bytes = write_npy_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert_eq!((10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))) % 64, 0);
        let a = parse_npy(&bytes, Path::new("a.npy"), "x").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data[5], -6.5);
        let e = parse_npy(&bytes[..bytes.len() - 4], Path::new("a.npy"), "x").unwrap_err().to_string();
        assert!(e.contains("a.npy") && e.contains("`x`") && e.contains("truncated"), "{e}");
        let e = parse_npy(b"PK\x03\x04 not npy", Path::new("a.npy"), "x").unwrap_err().to_string();
        assert!(e.contains("bad magic"), "{e}");
        let one = write_npy_f32(&[4], &[0.0; 4]);
        assert_eq!(parse_npy(&one, Path::new("a.npy"), "x").unwrap().shape, vec![4]);
        // A shape whose element count overflows is an error, not a panic or a huge allocation.
        let header_only = |header: &str| {
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
            b.extend_from_slice(header.as_bytes());
            b
        };
        let huge =
            header_only("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n");
        let e = parse_npy(&huge, Path::new("a.npy"), "x").unwrap_err().to_string();
        assert!(e.contains("more elements than can be addressed"), "{e}");
        let wide = header_only("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }\n");
        let e = parse_npy(&wide, Path::new("a.npy"), "x").unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn an_npz_member_declaring_more_than_its_bytes_can_hold_is_refused() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file("x.npy", opts).unwrap();
        std::io::Write::write_all(&mut w, &write_npy_f32(&[2], &[1.0, 2.0])).unwrap();
        let mut bytes = w.finish().unwrap().into_inner();
        assert_eq!(read_npz_members(&bytes, Path::new("a.npz"), &["x"]).unwrap()[0].data, vec![1.0, 2.0]);
        // Declare 3 GB uncompressed, in the local header and the central directory.
        let declared = 3_000_000_000u32.to_le_bytes();
        bytes[22..26].copy_from_slice(&declared);
        let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&declared);
        let e = read_npz_members(&bytes, Path::new("a.npz"), &["x"]).unwrap_err().to_string();
        assert!(e.contains("a.npz") && e.contains("`x`") && e.contains("declares 3000000000 bytes"), "{e}");
    }
}
