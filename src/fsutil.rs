//! Small file helpers for secrets kept on disk: directories made 0700 and files 0600 whatever the
//! umask (the data directory holds the embedded store with every withdraw k1 and the generated
//! zapper keys, the fake node's key and the admin token: all bearer secrets).

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

/// Creates `dir` and its missing parents with mode 0700. An existing directory is left as it is
/// (it may be shared, e.g. `.`), with a warning when others may read it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode & 0o777),
                    "directory holding secrets is readable by others; chmod 700 it");
            }
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes sure `path` exists as a file readable only by its owner, before a library (redb) opens
/// it: created empty with mode 0600 when missing, set to 0600 when it exists.
pub fn prepare_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    drop(file);
    Ok(())
}

/// Writes `contents` to a new file readable only by its owner; fails if the file exists.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // The mode given at creation is masked by the umask; this one is not.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
