//! Errors of the engine: every failure names the file and the field or line it concerns.

use std::path::PathBuf;

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line of a text file.
    Line(usize),
    /// A named field, tensor, key or header entry.
    Field(String),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File => Ok(()),
            Self::Line(n) => write!(f, ", line {n}"),
            Self::Field(name) => write!(f, ", field `{name}`"),
        }
    }
}

/// A data file could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused to read or write the file.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The bytes are not what the format expects.
    #[error("{}{location}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Line or field.
        location: Location,
        /// What was found and what was expected.
        message: String,
    },
}

impl DataError {
    /// A malformed-input error at a line of a text file.
    pub fn at_line(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Self::Malformed { path: path.into(), location: Location::Line(line), message: message.into() }
    }

    /// A malformed-input error in a named field.
    pub fn at_field(path: impl Into<PathBuf>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Malformed { path: path.into(), location: Location::Field(field.into()), message: message.into() }
    }

    /// A malformed-input error about the file as a whole.
    pub fn in_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Malformed { path: path.into(), location: Location::File, message: message.into() }
    }

    /// An I/O error on a file.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), error: source }
    }
}

/// Reads a whole file, naming it in the error.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Writes a file atomically: the bytes go to a temporary file beside the target, which is then
/// renamed over it, so a crash or a full disk never leaves a half-written file in its place.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), DataError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| DataError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DataError::io(path, e)
    })
}
