//! The static `.well-known` files of a domain, for owners who host their domain on static files
//! (`lnaddr wellknown export`): one LUD-16 lookup file per name, byte for byte the answer the
//! gateway serves (so its metadata, and so the description hash, is the one the callback uses;
//! the callback is on the gateway), and a NIP-05 `nostr.json` with every name that has a nostr key.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Error, Gateway};
use crate::types::{DomainName, TaggedName};

/// File paths (relative, e.g. `.well-known/lnurlp/alice`) and their exact contents.
#[derive(Debug, Serialize)]
pub struct WellKnownFiles {
    pub domain: String,
    pub files: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Nip05<'a> {
    names: BTreeMap<&'a str, &'a str>,
    relays: BTreeMap<&'a str, &'a [String]>,
}

impl Gateway {
    /// Every file a static host needs to serve `domain`'s addresses.
    pub async fn wellknown_files(&self, domain: &str) -> Result<WellKnownFiles, Error> {
        let name = DomainName::parse(domain).map_err(|_| Error::UnknownDomain)?;
        let domain = self.domain_named(name.as_str())?;
        let accounts = self.store.list_accounts(Some(&name)).await?;
        let mut files = BTreeMap::new();
        let mut nip05 = Nip05 {
            names: BTreeMap::new(),
            relays: BTreeMap::new(),
        };
        for account in &accounts {
            // `.` and `..` are valid LUD-16 names but no file name a static host can serve.
            let Ok(tagged) = TaggedName::parse(&account.username) else {
                continue;
            };
            if account.username == "." || account.username == ".." {
                continue;
            }
            let zaps = crate::invoices::zap_pubkey(&domain, account).is_some();
            let body = self
                .invoices
                .pay_entry(&domain, &account.username, &tagged)
                .lookup_body(zaps);
            files.insert(
                format!(".well-known/lnurlp/{}", account.username),
                String::from_utf8_lossy(&body).into_owned(),
            );
            if let Some(key) = &account.nostr_pubkey {
                nip05.names.insert(&account.username, key.as_hex());
                if !domain.relays.is_empty() {
                    nip05.relays.insert(key.as_hex(), &domain.relays);
                }
            }
        }
        let nostr = serde_json::to_string(&nip05)
            .map_err(|e| Error::Store(crate::store::StoreError::Corrupt(e)))?;
        files.insert(".well-known/nostr.json".into(), nostr);
        Ok(WellKnownFiles {
            domain: domain.name.to_string(),
            files,
        })
    }
}
