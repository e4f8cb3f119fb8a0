//! [`DomainStore`] on redb. Each operation is one write transaction, so removing a domain checks
//! its names, drops its record and tokens and bumps the version together.
//!
//! Tables: `domains` (name → [`DomainRecord`] JSON), `domain_tokens` (token hash → [`DomainToken`]
//! JSON), `domain_token_ids` (id → token hash); the version is `domains/version` in `meta`.

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{EmbeddedStore, META, NAMES, decode, encode, get_u64, next_seq};
use crate::store::{DomainRecord, DomainStore, DomainToken, StoreError};

pub(super) const DOMAINS: TableDefinition<&str, &[u8]> = TableDefinition::new("domains");
pub(super) const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("domain_tokens");
pub(super) const TOKEN_IDS: TableDefinition<&str, &str> = TableDefinition::new("domain_token_ids");
const VERSION_KEY: &str = "domains/version";

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(DOMAINS).map_err(StoreError::backend)?;
    tx.open_table(TOKENS).map_err(StoreError::backend)?;
    tx.open_table(TOKEN_IDS).map_err(StoreError::backend)?;
    Ok(())
}

fn bump_version(tx: &WriteTransaction) -> Result<(), StoreError> {
    next_seq(tx, VERSION_KEY)?;
    Ok(())
}

fn put_domain(tx: &WriteTransaction, record: &DomainRecord) -> Result<(), StoreError> {
    let mut t = tx.open_table(DOMAINS).map_err(StoreError::backend)?;
    t.insert(record.domain.name.as_str(), encode(record)?.as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

fn has_domain(tx: &WriteTransaction, name: &str) -> Result<bool, StoreError> {
    let t = tx.open_table(DOMAINS).map_err(StoreError::backend)?;
    Ok(t.get(name).map_err(StoreError::backend)?.is_some())
}

#[async_trait]
impl DomainStore for EmbeddedStore {
    async fn add_domain(&self, record: &DomainRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.write(move |tx| {
            if has_domain(tx, &record.domain.name)? {
                return Err(StoreError::DomainExists);
            }
            put_domain(tx, &record)?;
            bump_version(tx)
        })
        .await
    }

    async fn update_domain(&self, record: &DomainRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.write(move |tx| {
            if !has_domain(tx, &record.domain.name)? {
                return Err(StoreError::NotFound);
            }
            put_domain(tx, &record)?;
            bump_version(tx)
        })
        .await
    }

    async fn remove_domain(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.write(move |tx| {
            if !has_domain(tx, &name)? {
                return Err(StoreError::NotFound);
            }
            {
                // Name keys are `domain/user`; `0` follows `/`, so this range is the domain's names.
                let names = tx.open_table(NAMES).map_err(StoreError::backend)?;
                let (from, to) = (format!("{name}/"), format!("{name}0"));
                let mut range = names
                    .range(from.as_str()..to.as_str())
                    .map_err(StoreError::backend)?;
                if range.next().is_some() {
                    return Err(StoreError::DomainHasAccounts);
                }
            }
            tx.open_table(DOMAINS)
                .map_err(StoreError::backend)?
                .remove(name.as_str())
                .map_err(StoreError::backend)?;
            let mut tokens = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let mut ids = tx.open_table(TOKEN_IDS).map_err(StoreError::backend)?;
            let mut gone = Vec::new();
            for entry in tokens.iter().map_err(StoreError::backend)? {
                let (hash, value) = entry.map_err(StoreError::backend)?;
                let token: DomainToken = decode(value.value())?;
                if token.domain == name {
                    gone.push((hash.value().to_string(), token.id));
                }
            }
            for (hash, id) in gone {
                tokens.remove(hash.as_str()).map_err(StoreError::backend)?;
                ids.remove(id.as_str()).map_err(StoreError::backend)?;
            }
            drop((tokens, ids));
            bump_version(tx)
        })
        .await
    }

    async fn domains(&self) -> Result<Vec<DomainRecord>, StoreError> {
        self.read(|tx| {
            let t = tx.open_table(DOMAINS).map_err(StoreError::backend)?;
            t.iter()
                .map_err(StoreError::backend)?
                .map(|entry| decode(entry.map_err(StoreError::backend)?.1.value()))
                .collect()
        })
        .await
    }

    async fn domains_version(&self) -> Result<u64, StoreError> {
        self.read(|tx| {
            let meta = tx.open_table(META).map_err(StoreError::backend)?;
            get_u64(&meta, VERSION_KEY)
        })
        .await
    }

    async fn add_domain_token(&self, token: &DomainToken) -> Result<(), StoreError> {
        let token = token.clone();
        self.write(move |tx| {
            let mut tokens = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let mut ids = tx.open_table(TOKEN_IDS).map_err(StoreError::backend)?;
            if ids
                .get(token.id.as_str())
                .map_err(StoreError::backend)?
                .is_some()
            {
                // The same call run again by the group commit: already there.
                return Ok(());
            }
            tokens
                .insert(token.token_hash.as_str(), encode(&token)?.as_slice())
                .map_err(StoreError::backend)?;
            ids.insert(token.id.as_str(), token.token_hash.as_str())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn domain_token(&self, token_hash: &str) -> Result<Option<DomainToken>, StoreError> {
        let token_hash = token_hash.to_string();
        self.read(move |tx| {
            let t = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let v = t.get(token_hash.as_str()).map_err(StoreError::backend)?;
            v.map(|v| decode(v.value())).transpose()
        })
        .await
    }

    async fn domain_tokens(&self, domain: &str) -> Result<Vec<DomainToken>, StoreError> {
        let domain = domain.to_string();
        self.read(move |tx| {
            let t = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let mut out = Vec::new();
            for entry in t.iter().map_err(StoreError::backend)? {
                let token: DomainToken = decode(entry.map_err(StoreError::backend)?.1.value())?;
                if token.domain == domain {
                    out.push(token);
                }
            }
            out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(out)
        })
        .await
    }

    async fn remove_domain_token(&self, id: &str) -> Result<Option<DomainToken>, StoreError> {
        let id = id.to_string();
        self.write(move |tx| {
            let mut ids = tx.open_table(TOKEN_IDS).map_err(StoreError::backend)?;
            let Some(hash) = ids
                .remove(id.as_str())
                .map_err(StoreError::backend)?
                .map(|h| h.value().to_string())
            else {
                return Ok(None);
            };
            let mut tokens = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let removed = tokens
                .remove(hash.as_str())
                .map_err(StoreError::backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            Ok(removed)
        })
        .await
    }
}
