//! The account operations of the admin API and the CLI: create, read, change the nostr key,
//! remove, list the ledger, and an account's LUD-01 LNURL.

use super::{Error, Gateway, Refusal};
use crate::store::{Account, AccountId, NewAccount, Transaction};
use crate::types::{DomainName, LightningAddress, NostrPubkey};

impl Gateway {
    /// Creates an account for `address` on one of the configured domains.
    pub async fn create_account(
        &self,
        address: LightningAddress,
        nostr_pubkey: Option<&str>,
    ) -> Result<Account, Error> {
        self.domain_named(address.domain.as_str())?;
        let nostr_pubkey = nostr_pubkey
            .map(NostrPubkey::parse)
            .transpose()
            .map_err(Refusal::from)?;
        let account = self
            .store
            .create_account(NewAccount {
                address,
                nostr_pubkey,
            })
            .await
            .map_err(Error::from_store)?;
        tracing::info!(account = %account.id, address = %account.address(), "account created");
        Ok(account)
    }

    /// The account at `address` (tags are not part of an account's address).
    pub async fn account(&self, address: &LightningAddress) -> Result<Account, Error> {
        Ok(crate::services::account_at(self.store.as_ref(), address).await?)
    }

    /// The account with id `id`, if it still exists.
    pub async fn account_by_id(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        Ok(self.store.account(id).await?)
    }

    /// Every account, or every account on `domain`.
    pub async fn list_accounts(&self, domain: Option<&DomainName>) -> Result<Vec<Account>, Error> {
        Ok(self.store.list_accounts(domain).await?)
    }

    pub async fn set_nostr_pubkey(
        &self,
        address: &LightningAddress,
        pubkey: Option<&str>,
    ) -> Result<Account, Error> {
        let account = self.account(address).await?;
        let pubkey = pubkey
            .map(NostrPubkey::parse)
            .transpose()
            .map_err(Refusal::from)?;
        self.store
            .set_nostr_pubkey(&account.id, pubkey)
            .await
            .map_err(Error::from_store)
    }

    pub async fn delete_account(&self, address: &LightningAddress) -> Result<(), Error> {
        let account = self.account(address).await?;
        self.store
            .delete_account(&account.id)
            .await
            .map_err(Error::from_store)?;
        tracing::info!(account = %account.id, "account removed");
        Ok(())
    }

    pub async fn transactions(
        &self,
        address: &LightningAddress,
        limit: usize,
    ) -> Result<Vec<Transaction>, Error> {
        let account = self.account(address).await?;
        Ok(self.store.transactions(&account.id, limit).await?)
    }

    /// The account's LNURL (LUD-01) of its LUD-16 lookup URL.
    pub fn account_lnurl(&self, account: &Account) -> Option<String> {
        let domain = self.domain_named(&account.domain).ok()?;
        crate::lnurl::encode(&format!(
            "{}/.well-known/lnurlp/{}",
            domain.lnurl_base(),
            account.username
        ))
        .ok()
    }
}
