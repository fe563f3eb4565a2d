//! Run configs as TOML files: every key may be left out and keeps its default; an unknown key, a wrong
//! type or a value out of range is an error naming the file and the field. Shared by pretraining and
//! evaluation runs.

use std::path::Path;

use crate::error::{ConfigError, DataError};

/// Lays `user` over `reference`, table by table, collecting keys the reference lacks and turning
/// integers into floats where the reference holds a float (`epochs = 400` for an f64 field).
fn overlay(reference: &mut toml::Value, user: &toml::Value, prefix: &str, unknown: &mut Vec<String>) {
    let (toml::Value::Table(r), toml::Value::Table(u)) = (&mut *reference, user) else {
        *reference = match (&*reference, user) {
            (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
            _ => user.clone(),
        };
        return;
    };
    // A tagged enum (a table with `kind`) switched to another variant is taken whole: the variants'
    // fields differ.
    if u.get("kind").is_some_and(|k| r.get("kind") != Some(k)) {
        *reference = user.clone();
        return;
    }
    for (k, v) in u {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match r.get_mut(k) {
            None => unknown.push(path),
            Some(rv) => overlay(rv, v, &path, unknown),
        }
    }
}

fn leaves(v: &toml::Value, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                leaves(v, &if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn single(path: &str, v: &toml::Value) -> toml::Value {
    path.rsplit('.').fold(v.clone(), |acc, k| {
        let mut t = toml::map::Map::new();
        t.insert(k.to_string(), acc);
        toml::Value::Table(t)
    })
}

/// Parses a TOML config of type `T`: the user's keys laid over `reference` (the defaults), then
/// `validate`d. An
/// unknown key, a wrong type or a value `validate` rejects is an error naming `path` and the field
/// (`validate`'s message starts with the field's name).
pub fn parse_config<T>(
    text: &str,
    path: &Path,
    reference: &T,
    validate: impl Fn(&T) -> Result<(), ConfigError>,
) -> Result<T, DataError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let user: toml::Value =
        toml::from_str(text).map_err(|e| DataError::in_file(path, format!("not valid TOML: {}", e.message())))?;
    let reference = toml::Value::try_from(reference).map_err(|e| DataError::in_file(path, format!("internal: {e}")))?;
    let mut merged = reference.clone();
    let mut unknown = Vec::new();
    overlay(&mut merged, &user, "", &mut unknown);
    if let Some(first) = unknown.first() {
        return Err(DataError::at_field(path, first, format!("unknown field (unknown: {})", unknown.join(", "))));
    }
    let cfg: T = match merged.try_into() {
        Ok(c) => c,
        Err(e) => {
            // Name the field: lay the user's values over the defaults one at a time.
            let mut all = Vec::new();
            leaves(&user, "", &mut all);
            for (field, v) in all {
                let mut one = reference.clone();
                overlay(&mut one, &single(&field, &v), "", &mut Vec::new());
                if let Err(e) = one.try_into::<T>() {
                    return Err(DataError::at_field(path, field, e.message().to_string()));
                }
            }
            return Err(DataError::in_file(path, e.message().to_string()));
        }
    };
    validate(&cfg).map_err(|e| match e.field.is_empty() {
        true => DataError::in_file(path, e.message),
        false => DataError::at_field(path, e.field, e.message),
    })?;
    Ok(cfg)
}

/// A config as TOML (what a run folder's `config.toml` holds).
pub fn config_toml<T: serde::Serialize>(cfg: &T) -> String {
    toml::to_string_pretty(cfg).unwrap_or_else(|e| format!("# cannot write the config: {e}\n"))
}
