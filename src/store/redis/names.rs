//! The name index `name:<domain>/<user>` → account id: reading and claiming a name, and this
//! process's memory of the pairs it has read. With that memory a lookup is one round trip (the account's `HMGET`) instead of two (`GET` the
//! name, then the account), which matters because the two keys live in different cluster slots and
//! cannot share a script.
//!
//! Why a remembered id can be trusted without asking Redis again: account ids are never reused,
//! and a name only moves to another account after its owner's record is gone (`delete_account`
//! removes the record before the name; `claim_name` takes over a name only when its owner's record
//! is missing). So while the remembered account's record exists, the name is still its own. A
//! reader that finds the record gone forgets the entry and reads the name index again. The record
//! read also checks that the account carries this very name.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{RedisStore, scripts};
use crate::store::{Account, AccountId, StoreError};

impl RedisStore {
    /// The account behind a name key; a name pointing at a removed account is no account.
    pub(super) async fn account_at(&self, name_key: &str) -> Result<Option<Account>, StoreError> {
        match self.owner(name_key).await? {
            Some(id) => self.read_account(&id).await,
            None => Ok(None),
        }
    }

    /// Claims `name_key` for `id`: SET NX, or takes over a name left pointing at a removed
    /// account (a crash inside `delete_account`). Answers whether the name is now `id`'s.
    pub(super) async fn claim_name(
        &self,
        name_key: &str,
        id: &AccountId,
    ) -> Result<bool, StoreError> {
        let mut set = ::redis::cmd("SET");
        set.arg(name_key).arg(&id.0).arg("NX");
        let done: Option<String> = self.conn.query(&set).await?;
        if done.is_some() {
            return Ok(true);
        }
        let Some(owner) = self.owner(name_key).await? else {
            // Freed in between: try once more from the start.
            let done: Option<String> = self.conn.query(&set).await?;
            return Ok(done.is_some());
        };
        if self.read_account(&owner).await?.is_some() {
            return Ok(false);
        }
        let mut swap = scripts::SWAP_IF.prepare_invoke();
        swap.key(name_key).arg(&owner.0).arg(&id.0);
        let swapped: i64 = self.conn.invoke(&swap).await?;
        if swapped == 1 {
            tracing::info!(name = name_key, stale_account = %owner, "took over a name left by a removed account");
        }
        Ok(swapped == 1)
    }
}

/// A bounded map; when full, an arbitrary entry makes room. Locked only for a map operation, never
/// across an await; lookups share a read lock.
pub struct NameCache {
    map: RwLock<HashMap<String, AccountId>>,
    capacity: usize,
}

impl NameCache {
    pub fn new(capacity: usize) -> Self {
        NameCache {
            map: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    pub fn get(&self, name_key: &str) -> Option<AccountId> {
        self.read().get(name_key).cloned()
    }

    pub fn remember(&self, name_key: String, id: AccountId) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.write();
        if map.len() >= self.capacity
            && !map.contains_key(&name_key)
            && let Some(victim) = map.keys().next().cloned()
        {
            map.remove(&victim);
        }
        map.insert(name_key, id);
    }

    /// Forgets `name_key` if it still points at `id` (another task may have stored a newer id).
    pub fn forget(&self, name_key: &str, id: &AccountId) {
        let mut map = self.write();
        if map.get(name_key) == Some(id) {
            map.remove(name_key);
        }
    }

    // A panic while holding this lock cannot leave the map inconsistent (each operation is one
    // std call), so a poisoned lock is still usable.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, AccountId>> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, AccountId>> {
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        AccountId(s.to_string())
    }

    #[test]
    fn stays_within_capacity() {
        let cache = NameCache::new(3);
        for i in 0..10 {
            cache.remember(format!("name:d/u{i}"), id(&i.to_string()));
        }
        assert_eq!(cache.read().len(), 3);
        assert_eq!(
            cache.get("name:d/u9"),
            Some(id("9")),
            "the newest entry is kept"
        );
    }

    #[test]
    fn forgets_only_the_id_it_was_told() {
        let cache = NameCache::new(8);
        cache.remember("name:d/alice".into(), id("new"));
        cache.forget("name:d/alice", &id("old"));
        assert_eq!(cache.get("name:d/alice"), Some(id("new")));
        cache.forget("name:d/alice", &id("new"));
        assert_eq!(cache.get("name:d/alice"), None);
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let cache = NameCache::new(0);
        cache.remember("name:d/alice".into(), id("a"));
        assert_eq!(cache.get("name:d/alice"), None);
    }
}
