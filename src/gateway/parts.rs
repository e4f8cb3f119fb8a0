//! Building a [`Gateway`] from its [`Parts`] (the services and shared parts `app` makes once), and
//! the accessors to what its private fields hold.

use std::sync::Arc;

use super::Gateway;
use crate::config::Settings;
use crate::domains::Domains;
use crate::lightning::LightningNode;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::Store;

/// What a [`Gateway`] is made of; `app` builds the services and the shared parts once.
pub struct Parts {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub node: Arc<dyn LightningNode>,
    /// The one registry every service counts in.
    pub metrics: Metrics,
    pub admin_token: Secret,
    pub domains: Arc<Domains>,
    pub invoices: Arc<crate::invoices::Invoices>,
    pub withdrawals: crate::withdraw::Withdrawals,
    pub payments: crate::payments::Payments,
    pub nwc_connections: crate::nwc::NwcConnections,
    pub lndhub: crate::lndhub::Hub,
}

impl Gateway {
    /// A gateway of `parts`, with a new ledger event broadcast.
    pub fn new(parts: Parts) -> Self {
        Gateway {
            settings: parts.settings,
            store: parts.store,
            node: parts.node,
            metrics: parts.metrics,
            admin_token: parts.admin_token,
            domains: parts.domains,
            withdrawals: parts.withdrawals,
            payments: parts.payments,
            invoices: parts.invoices,
            events: crate::events::Events::default(),
            nwc_connections: parts.nwc_connections,
            lndhub: parts.lndhub,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn node(&self) -> &Arc<dyn LightningNode> {
        &self.node
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The in-process ledger event broadcast.
    pub fn events(&self) -> &crate::events::Events {
        &self.events
    }

    /// The served domains, reloaded while running.
    pub fn domains(&self) -> &Arc<Domains> {
        &self.domains
    }

    /// The payment engine.
    pub fn payments(&self) -> &crate::payments::Payments {
        &self.payments
    }

    /// The invoice issuing service: the LNURL-pay callback and answers, wallets' invoices.
    pub fn invoices(&self) -> &Arc<crate::invoices::Invoices> {
        &self.invoices
    }

    /// The withdraw service: links and the LNURL-withdraw callback.
    pub fn withdrawals(&self) -> &crate::withdraw::Withdrawals {
        &self.withdrawals
    }

    /// The NWC connection service: making, listing and revoking connections.
    pub fn nwc_connections(&self) -> &crate::nwc::NwcConnections {
        &self.nwc_connections
    }
}

impl Gateway {
    /// The LndHub service: credentials, tokens, each account's wallet.
    pub fn lndhub(&self) -> &crate::lndhub::Hub {
        &self.lndhub
    }
}
