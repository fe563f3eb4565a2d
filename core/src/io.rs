//! Durable file I/O of the native builds: whole-file reads that name the file in their error, and
//! atomic, synced writes (checkpoints, run folders, converted datasets).

use std::path::PathBuf;

use crate::error::DataError;

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// The temporary file [`write_atomically`] writes beside `path` first: `.<name>.tmp<pid>`.
fn temporary_path(path: &std::path::Path) -> PathBuf {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()))
}

/// Removes the temporary files of [`write_atomically`] calls in `dir` that a kill cut short (any
/// process's); errors are ignored, as the files are garbage either way.
pub fn remove_temporaries(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes a file atomically and durably: the bytes go to a temporary file beside the target, which is
/// synced to disk and then renamed over it, and the folder is synced so that the rename itself
/// survives a power loss. A crash or a full disk never leaves a half-written file in its place, and a
/// failed write removes its temporary file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), DataError> {
    use std::io::Write as _;
    let tmp = temporary_path(path);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(DataError::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DataError::io(path, e)
    })?;
    // The folder's entry: on Unix a directory opens read-only and syncs; elsewhere this is skipped.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("amr-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(d: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    }

    #[test]
    #[cfg(unix)]
    fn an_atomic_write_replaces_the_file_or_leaves_it_and_no_temporary_file() {
        let d = temp_dir("write");
        let target = d.join("checkpoint.safetensors");
        write_atomically(&target, b"first").unwrap();
        write_atomically(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");

        // A full disk while writing (the temporary file is /dev/full): an error, the old file kept,
        // the temporary file removed.
        let tmp = d.join(format!(".checkpoint.safetensors.tmp{}", std::process::id()));
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        let e = write_atomically(&target, &[7u8; 1 << 16]).unwrap_err().to_string();
        assert!(e.contains(".checkpoint.safetensors.tmp"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));

        // A rename that fails (the target is a non-empty folder): the error names it, nothing left.
        let folder = d.join("taken");
        std::fs::create_dir_all(folder.join("inside")).unwrap();
        let e = write_atomically(&folder, b"x").unwrap_err().to_string();
        assert!(e.contains("taken"), "{e}");
        assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
