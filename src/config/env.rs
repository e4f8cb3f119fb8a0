//! `LNADDR_<SECTION>__<KEY>` environment overrides, applied to the TOML tree before it is
//! validated.

use super::{ConfigError, ENV_NOT_KEYS, ENV_PREFIX};

/// Whether the key named by `LNADDR_...` holds a secret (`admin_token`, `..._secret_key`,
/// passwords): its value is always taken as a string, never parsed (`1234...` stays text), and
/// it is never shown in a configuration error.
pub(super) fn is_secret_key(env_key: &str) -> bool {
    let last = env_key
        .rsplit("__")
        .next()
        .unwrap_or(env_key)
        .to_ascii_lowercase();
    !last.ends_with("_file")
        && ["token", "secret", "password"]
            .iter()
            .any(|word| last.contains(word))
}

/// Applies `LNADDR_A__B=value` as `a.b = value`. A value is read as a TOML value when it is one
/// (`true`, `42`, `["a","b"]`), otherwise as a string; a secret ([`is_secret_key`]) always as a
/// string.
pub(super) fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (key, value) in env {
        let Some(path) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_NOT_KEYS.contains(&key.as_str()) || path.is_empty() {
            continue;
        }
        let segments: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let parsed = Some(format!("v = {value}"))
            .filter(|_| !is_secret_key(&key))
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_str() || value.trim_start().starts_with(['"', '\'']))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let mut cursor = &mut *table;
        for (i, seg) in segments.iter().enumerate() {
            if i + 1 == segments.len() {
                cursor.insert(seg.clone(), parsed.clone());
                break;
            }
            let entry = cursor
                .entry(seg.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cursor = entry
                .as_table_mut()
                .ok_or_else(|| ConfigError::Parse(format!("{key}: {seg} is not a table")))?;
        }
    }
    Ok(())
}
