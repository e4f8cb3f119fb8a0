//! Making, listing and revoking NWC connections (the admin API and `lnaddr nwc`). A connection gets
//! its own wallet service key (kept in the store, never shown) and a client key whose secret goes
//! into the connection URI once and is never stored: only its public key is, to check who signs
//! requests. [`NwcConnections`] is the service, holding only its dependencies (store, relays, the
//! signal to this process's NWC service); it fails with the services' [`ServiceError`]. No HTTP
//! types here.

use std::sync::Arc;
use std::time::Duration;

use nostr_sdk::Keys;
use serde::Serialize;

use super::NwcSignal;
use super::budget::period_start;
use super::nip47;
use crate::refusal::Refusal;
use crate::services::ServiceError;
use crate::store::{Account, BudgetRenewal, NwcConnection, Store, WalletSecret};
use crate::types::{Msat, unix_now};

type Error = ServiceError;

/// Longest connection name, in characters.
const MAX_NAME: usize = 100;

/// A connection to make (the admin API's body).
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    pub name: Option<String>,
    /// Allowed methods; every implemented one when absent.
    pub methods: Option<Vec<String>>,
    pub max_amount_msat: Option<Msat>,
    pub budget_msat: Option<Msat>,
    /// Default `monthly`.
    pub budget_renewal: Option<BudgetRenewal>,
    pub expires_in_secs: Option<u64>,
}

/// A connection as the admin API shows it (never its wallet secret).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub address: String,
    pub name: Option<String>,
    pub wallet_pubkey: String,
    pub client_pubkey: String,
    pub methods: Vec<String>,
    pub max_amount_msat: Option<u64>,
    pub budget_msat: Option<u64>,
    pub budget_renewal: BudgetRenewal,
    /// Spent in the current budget period.
    pub budget_used_msat: u64,
    pub relays: Vec<String>,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub revoked: bool,
    /// Only when just made: the connection URI with the client secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// The longest a new connection waits for this process's NWC service to listen for it.
const LISTEN_WAIT: Duration = Duration::from_secs(3);

/// Making, listing and revoking connections (see the module docs).
pub struct NwcConnections {
    store: Arc<dyn Store>,
    /// `[nwc] relays`, named in every connection URI.
    relays: Vec<String>,
    signal: Arc<NwcSignal>,
}

impl NwcConnections {
    pub fn new(store: Arc<dyn Store>, relays: Vec<String>, signal: Arc<NwcSignal>) -> Self {
        NwcConnections {
            store,
            relays,
            signal,
        }
    }

    /// The account at `address`.
    async fn account(&self, address: &crate::types::LightningAddress) -> Result<Account, Error> {
        crate::services::account_at(self.store.as_ref(), address).await
    }

    /// Makes a connection for the account at `address`; answers it with its URI.
    pub async fn create_nwc_connection(
        &self,
        address: &crate::types::LightningAddress,
        new: NewConnection,
    ) -> Result<ConnectionView, Error> {
        let account = self.account(address).await?;
        let relays = &self.relays;
        if relays.is_empty() {
            return Err(Refusal::NoNwcRelays.into());
        }
        let name = new
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
            return Err(Refusal::TooLong {
                field: "name",
                max: MAX_NAME,
            }
            .into());
        }
        let methods = match new.methods {
            None => nip47::METHODS.iter().map(|m| m.to_string()).collect(),
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for m in list {
                    if !nip47::is_method(&m) {
                        return Err(Refusal::UnknownNwcMethod {
                            name: m,
                            known: nip47::METHODS,
                        }
                        .into());
                    }
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                if out.is_empty() {
                    return Err(Refusal::NoNwcMethods.into());
                }
                out
            }
        };
        if new.max_amount_msat.is_some_and(|m| m.msat() == 0)
            || new.budget_msat.is_some_and(|b| b.msat() == 0)
        {
            return Err(Refusal::NwcLimitsNotPositive.into());
        }
        let now = unix_now();
        let expires_at = match new.expires_in_secs {
            Some(0) => return Err(Refusal::NotPositive("expires_in_secs").into()),
            Some(secs) => Some(now.saturating_add(secs)),
            None => None,
        };
        let wallet = Keys::generate();
        let client = Keys::generate();
        let renewal = new.budget_renewal.unwrap_or(BudgetRenewal::Monthly);
        let conn = NwcConnection {
            id: wallet.public_key().to_hex(),
            account_id: account.id.clone(),
            name,
            wallet_secret: WalletSecret::new(wallet.secret_key().to_secret_hex()),
            client_pubkey: client.public_key().to_hex(),
            methods,
            max_amount_msat: new.max_amount_msat,
            budget_msat: new.budget_msat,
            budget_renewal: renewal,
            created_at: now,
            expires_at,
            revoked: false,
            budget_used_msat: Msat::ZERO,
            budget_period: period_start(renewal, now),
        };
        self.store
            .create_nwc_connection(&conn)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound => Error::UnknownUser,
                other => Error::Store(other),
            })?;
        tracing::info!(account = %account.id, wallet_pubkey = %conn.id, "nwc connection created");
        self.signal.changed();
        // Answered from the moment the URI is shown: a request sent before the service listens
        // would be lost (relays keep no requests). Bounded: a slow relay does not hold this up.
        if !self.signal.wait_listening(&conn.id, LISTEN_WAIT).await {
            tracing::debug!(wallet_pubkey = %conn.id, "nwc: connection made before the service listens");
        }
        let uri = nip47::connection_uri(
            &conn.id,
            relays,
            &client.secret_key().to_secret_hex(),
            &account.address(),
        );
        let mut view = self.connection_view(&conn, &account.address());
        view.uri = Some(uri);
        Ok(view)
    }

    /// The account's connections, revoked ones included, with their budget used.
    pub async fn nwc_connections(
        &self,
        address: &crate::types::LightningAddress,
    ) -> Result<Vec<ConnectionView>, Error> {
        let account = self.account(address).await?;
        let list = self.store.nwc_connections(Some(&account.id)).await?;
        Ok(list
            .iter()
            .map(|c| self.connection_view(c, &account.address()))
            .collect())
    }

    /// Revokes a connection: its requests are refused from now on, by every process.
    pub async fn revoke_nwc_connection(&self, id: &str) -> Result<ConnectionView, Error> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Store(crate::store::StoreError::NotFound));
        }
        let conn = self
            .store
            .revoke_nwc_connection(&id.to_ascii_lowercase())
            .await?
            .ok_or(Error::Store(crate::store::StoreError::NotFound))?;
        tracing::info!(account = %conn.account_id, wallet_pubkey = %conn.id, "nwc connection revoked");
        self.signal.changed();
        let address = match self.store.account(&conn.account_id).await? {
            Some(a) => a.address(),
            None => String::new(),
        };
        Ok(self.connection_view(&conn, &address))
    }

    fn connection_view(&self, c: &NwcConnection, address: &str) -> ConnectionView {
        let period = period_start(c.budget_renewal, unix_now());
        ConnectionView {
            id: c.id.clone(),
            address: address.to_string(),
            name: c.name.clone(),
            wallet_pubkey: c.id.clone(),
            client_pubkey: c.client_pubkey.clone(),
            methods: c.methods.clone(),
            max_amount_msat: c.max_amount_msat.map(|m| m.msat()),
            budget_msat: c.budget_msat.map(|m| m.msat()),
            budget_renewal: c.budget_renewal,
            budget_used_msat: c.used_in(period).msat(),
            relays: self.relays.clone(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            revoked: c.revoked,
            uri: None,
        }
    }
}
