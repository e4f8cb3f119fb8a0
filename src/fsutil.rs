//! Small file helpers for secrets kept on disk: created once with mode 0600, read back as is.

use std::io::Write;
use std::path::Path;

/// Reads `len` random bytes kept as hex in `path`, creating the file (mode 0600) when missing.
pub fn load_or_create_secret_hex(path: &Path, len: usize) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == len)
            .ok_or_else(|| {
                std::io::Error::other(format!("{} does not hold {len} hex bytes", path.display()))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
            write_private(path, &hex::encode(&bytes))?;
            Ok(bytes)
        }
        Err(e) => Err(e),
    }
}

/// Writes `contents` to a new file readable only by its owner; fails if the file exists.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
