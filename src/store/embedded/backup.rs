//! Backups of the embedded store. A snapshot is a new redb file filled from one read transaction,
//! so it holds exactly what was committed when the transaction began, however many writes commit
//! while it is copied (redb is copy-on-write: a reader's pages are never overwritten). Copying the
//! live file instead would mix commits (redb's author: "not safe to copy the file itself while
//! writes are in progress", cberner/redb#634). [`restore`] puts a snapshot in place of a store
//! that no process has open.
//!
//! Every table is copied with its typed definition (redb cannot iterate an untyped table), so a
//! new table must be added to `copy_tables`; a snapshot refuses to finish while the store holds a
//! table that list does not name, rather than leave it out silently.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, Key, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    TableDefinition, TableError, TableHandle, Value, WriteTransaction,
};

use super::{
    ACCOUNTS, INVOICES, INVOICES_UNTIL, META, NAMES, TXS, domains, forget, lndhub, nwc, outbox,
    webhooks, withdraw,
};
use crate::store::StoreError;

/// Copies every table of the store from `src` into `dst`; answers the names copied.
fn copy_tables(src: &ReadTransaction, dst: &WriteTransaction) -> Result<Vec<String>, StoreError> {
    let mut copied = Vec::new();
    copy(src, dst, ACCOUNTS, &mut copied)?;
    copy(src, dst, NAMES, &mut copied)?;
    copy(src, dst, INVOICES, &mut copied)?;
    copy(src, dst, TXS, &mut copied)?;
    copy(src, dst, META, &mut copied)?;
    copy(src, dst, INVOICES_UNTIL, &mut copied)?;
    copy(src, dst, forget::EXPIRY, &mut copied)?;
    copy(src, dst, outbox::ZAP_JOBS, &mut copied)?;
    copy(src, dst, outbox::ZAP_DUE, &mut copied)?;
    copy(src, dst, withdraw::LINKS, &mut copied)?;
    copy(src, dst, withdraw::PAYMENTS, &mut copied)?;
    copy(src, dst, withdraw::PENDING, &mut copied)?;
    copy(src, dst, webhooks::WEBHOOKS, &mut copied)?;
    copy(src, dst, webhooks::JOBS, &mut copied)?;
    copy(src, dst, webhooks::DUE, &mut copied)?;
    copy(src, dst, webhooks::AGE, &mut copied)?;
    copy(src, dst, lndhub::LOGINS, &mut copied)?;
    copy(src, dst, lndhub::BY_ACCOUNT, &mut copied)?;
    copy(src, dst, lndhub::TOKENS, &mut copied)?;
    copy(src, dst, lndhub::EXPIRY, &mut copied)?;
    copy(src, dst, lndhub::INVITES, &mut copied)?;
    copy(src, dst, lndhub::INVOICES, &mut copied)?;
    copy(src, dst, domains::DOMAINS, &mut copied)?;
    copy(src, dst, domains::TOKENS, &mut copied)?;
    copy(src, dst, domains::TOKEN_IDS, &mut copied)?;
    copy(src, dst, nwc::CONNECTIONS, &mut copied)?;
    copy(src, dst, nwc::REQUESTS, &mut copied)?;
    copy(src, dst, nwc::OPEN, &mut copied)?;
    copy(src, dst, nwc::HOLDS, &mut copied)?;
    Ok(copied)
}

fn copy<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
    copied: &mut Vec<String>,
) -> Result<(), StoreError> {
    use redb::ReadableTable;
    let from = match src.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(StoreError::backend(e)),
    };
    let mut to = dst.open_table(def).map_err(StoreError::backend)?;
    for entry in from.iter().map_err(StoreError::backend)? {
        let (k, v) = entry.map_err(StoreError::backend)?;
        to.insert(k.value(), v.value())
            .map_err(StoreError::backend)?;
    }
    copied.push(def.name().to_string());
    Ok(())
}

fn other(message: String) -> StoreError {
    StoreError::backend(std::io::Error::other(message))
}

/// Writes what `src` sees into a new redb file at `out` (which must not exist), fsynced.
pub(super) fn write_snapshot(src: &ReadTransaction, out: &Path) -> Result<(), StoreError> {
    // create_new: never overwrite, and the file is 0600 from the start.
    let file = {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(out).map_err(StoreError::backend)?
    };
    let backend = redb::backends::FileBackend::new(file).map_err(StoreError::backend)?;
    let db = Database::builder()
        .create_with_backend(backend)
        .map_err(StoreError::backend)?;
    let tx = db.begin_write().map_err(StoreError::backend)?;
    let copied = copy_tables(src, &tx)?;
    let unknown: Vec<String> = src
        .list_tables()
        .map_err(StoreError::backend)?
        .map(|t| t.name().to_string())
        .filter(|name| !copied.contains(name))
        .chain(
            src.list_multimap_tables()
                .map_err(StoreError::backend)?
                .map(|t| t.name().to_string()),
        )
        .collect();
    if !unknown.is_empty() {
        return Err(other(format!(
            "the backup does not know the table(s) {}: add them to copy_tables in \
             src/store/embedded/backup.rs",
            unknown.join(", ")
        )));
    }
    tx.commit().map_err(StoreError::backend)?;
    Ok(())
}

/// Why a restore was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0} is in use by a running gateway: stop it first")]
    InUse(PathBuf),
    #[error("{path} is not a backup of an lnaddr embedded store: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("restoring to {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("opening {path}: {reason}")]
    Open { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Puts the snapshot `backup` in place of the store file `store`, which no process may have
/// open (redb's file lock tells). The store file that was there is kept beside it, renamed to
/// `<store>.before-restore-<unix time>`; answers that name. The backup file itself is not changed.
pub fn restore(backup: &Path, store: &Path) -> Result<Option<PathBuf>, RestoreError> {
    let dir = store
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // Check the backup on a private copy: opening a redb file may write to it (repair).
    let staged = store.with_extension("redb.restoring");
    let _ = std::fs::remove_file(&staged);
    copy_private(backup, &staged)?;
    if let Err(reason) = check_backup(&staged) {
        let _ = std::fs::remove_file(&staged);
        return Err(RestoreError::NotABackup {
            path: backup.to_path_buf(),
            reason,
        });
    }
    // Hold the old store open (its lock) while it is moved aside, so no gateway starts on it.
    let held = match Database::open(store) {
        Ok(db) => Some(db),
        Err(DatabaseError::DatabaseAlreadyOpen) => {
            let _ = std::fs::remove_file(&staged);
            return Err(RestoreError::InUse(store.to_path_buf()));
        }
        Err(_) if !store.exists() => None,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(RestoreError::Open {
                path: store.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    let kept = match held {
        Some(_) => {
            let kept = PathBuf::from(format!(
                "{}.before-restore-{}",
                store.display(),
                crate::types::unix_now()
            ));
            std::fs::rename(store, &kept).map_err(io(store))?;
            Some(kept)
        }
        None => None,
    };
    std::fs::rename(&staged, store).map_err(io(store))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    drop(held);
    Ok(kept)
}

fn copy_private(from: &Path, to: &Path) -> Result<(), RestoreError> {
    let mut src = std::fs::File::open(from).map_err(io(from))?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut dst = options.open(to).map_err(io(to))?;
    std::io::copy(&mut src, &mut dst).map_err(io(to))?;
    dst.sync_all().map_err(io(to))
}

/// A backup opens as redb and holds the store's core tables.
fn check_backup(path: &Path) -> Result<(), String> {
    let db = Database::open(path).map_err(|e| e.to_string())?;
    let tx = db.begin_read().map_err(|e| e.to_string())?;
    for def in [ACCOUNTS, META] {
        tx.open_table(def)
            .map_err(|e| format!("table {}: {e}", def.name()))?;
    }
    tx.open_table(TXS).map_err(|e| format!("ledger: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_the_backup_does_not_know_stops_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            crate::store::embedded::EmbeddedStore::open(&dir.path().join("s.redb")).expect("open");
        let tx = store.db.begin_write().expect("write");
        {
            let extra: TableDefinition<&str, u64> = TableDefinition::new("someone_elses_table");
            tx.open_table(extra)
                .expect("table")
                .insert("k", 1)
                .expect("insert");
        }
        tx.commit().expect("commit");
        let read = store.db.begin_read().expect("read");
        let err = write_snapshot(&read, &dir.path().join("b.redb")).expect_err("refused");
        assert!(
            format!("{err:?}").contains("someone_elses_table"),
            "{err:?}"
        );
    }

    #[test]
    fn restore_refuses_what_is_not_a_backup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"not a database").expect("write");
        let store = dir.path().join("lnaddr.redb");
        assert!(matches!(
            restore(&junk, &store),
            Err(RestoreError::NotABackup { .. })
        ));
        assert!(!store.exists());
        assert!(!store.with_extension("redb.restoring").exists());
    }
}
