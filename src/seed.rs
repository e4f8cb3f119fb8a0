//! `lnaddr seed`: fills a store with many accounts quickly, for benchmarks at scale. Account
//! creation runs with many operations in flight over the store's one (multiplexed) connection, so
//! Redis sees them pipelined.

use std::sync::Arc;

use futures_util::StreamExt;

use crate::store::{NewAccount, Store, StoreError};
use crate::types::{DomainName, LightningAddress, Username};

/// Operations in flight at once.
const IN_FLIGHT: usize = 512;

/// Creates `count` accounts `{prefix}{n}@{domain}`; names already taken are skipped. Answers how
/// many were created.
pub async fn seed(
    store: Arc<dyn Store>,
    domain: &DomainName,
    prefix: &str,
    count: u64,
) -> Result<u64, StoreError> {
    let results = futures_util::stream::iter(0..count)
        .map(|n| {
            let store = store.clone();
            let domain = domain.clone();
            let name = format!("{prefix}{n}");
            async move {
                let username = Username::parse(&name)
                    .map_err(|e| StoreError::backend(std::io::Error::other(e.to_string())))?;
                let address = LightningAddress { username, domain };
                match store
                    .create_account(NewAccount {
                        address,
                        nostr_pubkey: None,
                    })
                    .await
                {
                    Ok(_) => Ok(1),
                    Err(StoreError::NameTaken) => Ok(0),
                    Err(e) => Err(e),
                }
            }
        })
        .buffer_unordered(IN_FLIGHT);
    futures_util::pin_mut!(results);
    let mut created = 0;
    while let Some(r) = results.next().await {
        created += r?;
    }
    Ok(created)
}
