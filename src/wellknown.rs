//! `lnaddr wellknown export`: writes a domain's static `.well-known` files (as the admin API's
//! `GET /api/v1/domains/{name}/wellknown` gives them) under a directory, for a domain owner whose
//! site is static files. Paths come from the gateway, but are still checked here: each must be
//! under `.well-known/`, with no `.`/`..` component (a name like `..` is a valid LUD-16 name).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Why the files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A path that would leave the output directory or is not a `.well-known` file.
    #[error("refusing to write {0:?}: not a plain path under .well-known/")]
    BadPath(String),
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes every file under `out` (created when missing); answers the paths written.
pub fn write_files(
    out: &Path,
    files: &BTreeMap<String, String>,
) -> Result<Vec<PathBuf>, ExportError> {
    let mut written = Vec::with_capacity(files.len());
    for (rel, contents) in files {
        let relative = Path::new(rel);
        let plain = rel
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'))
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !plain || !rel.starts_with(".well-known/") {
            return Err(ExportError::BadPath(rel.clone()));
        }
        let path = out.join(relative);
        let io = |source| ExportError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, contents).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_under_well_known_and_refuses_escapes() {
        let dir = tempfile::tempdir().expect("dir");
        let files = BTreeMap::from([
            (".well-known/lnurlp/alice".to_string(), "{}".to_string()),
            (
                ".well-known/nostr.json".to_string(),
                "{\"names\":{}}".to_string(),
            ),
        ]);
        let written = write_files(dir.path(), &files).expect("written");
        assert_eq!(written.len(), 2);
        let alice = std::fs::read_to_string(dir.path().join(".well-known/lnurlp/alice"));
        assert_eq!(alice.expect("read"), "{}");
        for bad in [
            ".well-known/lnurlp/..",
            ".well-known/../../etc/x",
            "/etc/passwd",
            "index.html",
            ".well-known/lnurlp/./a",
        ] {
            let files = BTreeMap::from([(bad.to_string(), String::new())]);
            assert!(
                matches!(
                    write_files(dir.path(), &files),
                    Err(ExportError::BadPath(_))
                ),
                "{bad}"
            );
        }
    }
}
