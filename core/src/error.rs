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

/// A config value out of range, or one that does not fit another value, a checkpoint or the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The field as config files name it (`model.dim`, `split.test_share`, ...); empty when the
    /// problem is not one field's.
    pub field: String,
    /// What was found and what was expected; it names the field and its value.
    pub message: String,
}

impl ConfigError {
    /// An error from a message in the house style `field = value: what was expected` (or
    /// `field: ...`, `field, other: ...`); the field is read from its start.
    pub fn from_message(message: impl Into<String>) -> Self {
        let message = message.into();
        let end = message.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(message.len());
        let (head, rest) = message.split_at(end);
        let is_field = !head.is_empty() && [" =", ":", ","].iter().any(|p| rest.starts_with(p));
        Self { field: if is_field { head.to_string() } else { String::new() }, message }
    }
}

impl From<ConfigError> for String {
    fn from(e: ConfigError) -> Self {
        e.message
    }
}

/// The compute device failed: no adapter, a result that could not be read back, a kernel that did not
/// run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

/// A data file could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused to read or write the file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said (also the error's `source`).
        #[source]
        source: std::io::Error,
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
        Self::Io { path: path.into(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_error_reads_its_field_from_the_message() {
        let e = ConfigError::from_message("model.r = 7: must divide frames / patch = 30");
        assert_eq!(
            (e.field.as_str(), e.to_string().as_str()),
            ("model.r", "model.r = 7: must divide frames / patch = 30")
        );
        assert_eq!(ConfigError::from_message("split.of: `all` has no training part").field, "split.of");
        assert_eq!(ConfigError::from_message("model.joints, model.mlp must be at least 1").field, "model.joints");
        assert_eq!(ConfigError::from_message("the dataset has no sequences").field, "");
        // Through `?` into code that still speaks in strings, the message is kept whole.
        assert_eq!(String::from(ConfigError::from_message("focal.k = -1: expected > 0")), "focal.k = -1: expected > 0");
    }

    #[test]
    fn an_io_error_is_the_source_of_the_data_error() {
        let e = DataError::io("x.bvh", std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
        assert_eq!(e.to_string(), "x.bvh: gone");
        assert_eq!(std::error::Error::source(&e).map(ToString::to_string).as_deref(), Some("gone"));
    }
}
