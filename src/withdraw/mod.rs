//! LNURL-withdraw (LUD-03) vouchers, the domain side: creating and showing withdraw links, the
//! `withdrawRequest` a wallet reads, and the callback that checks the wallet's invoice, reserves
//! `amount + fee reserve` in one atomic store step and hands the payment to the [`payer`]. Money
//! rules: a link pays at most `uses` times, a balance never goes below zero, a failed payment is
//! refunded, an invoice of this gateway settles inside the ledger. [`Withdrawals`] is the service,
//! holding only its dependencies (store, node, the withdraw settings, the domains for the links'
//! URLs, the payer); it fails with the services' [`ServiceError`]. No HTTP types here.

pub mod fees;
pub mod qr;

/// The payer moved to the payment engine; kept here for the callers that name it so.
pub use crate::payments::payer::{self, Payer};

use std::sync::Arc;

use crate::config::WithdrawSettings;
use crate::domains::Domains;
use crate::lightning::LightningNode;
use crate::lnurl::withdraw as lud03;
use crate::payments;
use crate::refusal::Refusal;
use crate::services::ServiceError;
use crate::store::{Account, Reservation, ReserveOutcome, Store, WithdrawLink};
use crate::types::{K1, Msat, unix_now};

type Error = ServiceError;

/// Longest link title, in characters.
const MAX_TITLE: usize = 200;
/// Most uses one link may have.
const MAX_USES: u32 = 100_000;

/// A link to create (the admin API's body).
#[derive(Debug, Clone)]
pub struct NewLink {
    pub min_msat: Msat,
    pub max_msat: Msat,
    pub uses: u32,
    pub title: Option<String>,
    pub expires_in_secs: Option<u64>,
}

/// Where a link is reached: its URL, LNURL (upper case), LUD-17 form and voucher page.
#[derive(Debug, Clone)]
pub struct LinkUrls {
    pub url: String,
    pub lnurl: String,
    pub lnurlw: String,
    pub page: String,
}

/// Withdraw links and the LNURL-withdraw callback (see the module docs).
pub struct Withdrawals {
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    settings: WithdrawSettings,
    domains: Arc<Domains>,
    payer: Payer,
}

impl Withdrawals {
    pub fn new(
        store: Arc<dyn Store>,
        node: Arc<dyn LightningNode>,
        settings: WithdrawSettings,
        domains: Arc<Domains>,
        payer: Payer,
    ) -> Self {
        Withdrawals {
            store,
            node,
            settings,
            domains,
            payer,
        }
    }

    /// The account at `address`.
    async fn account(&self, address: &crate::types::LightningAddress) -> Result<Account, Error> {
        crate::services::account_at(self.store.as_ref(), address).await
    }

    /// Creates a withdraw link on the account at `address`.
    pub async fn create_withdraw_link(
        &self,
        address: &crate::types::LightningAddress,
        new: NewLink,
    ) -> Result<(WithdrawLink, LinkUrls), Error> {
        let account = self.account(address).await?;
        if new.min_msat.msat() == 0 || new.min_msat > new.max_msat {
            return Err(Refusal::LinkBounds.into());
        }
        if new.uses == 0 || new.uses > MAX_USES {
            return Err(Refusal::LinkUses { max: MAX_USES }.into());
        }
        let title = new
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if title
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TITLE)
        {
            return Err(Refusal::TooLong {
                field: "title",
                max: MAX_TITLE,
            }
            .into());
        }
        let now = unix_now();
        let expires_at = match new.expires_in_secs {
            Some(0) => return Err(Refusal::NotPositive("expires_in_secs").into()),
            Some(secs) => Some(now.saturating_add(secs)),
            None => None,
        };
        let link = WithdrawLink {
            k1: hex::encode(rand::random::<[u8; 32]>()),
            account_id: account.id.clone(),
            min_msat: new.min_msat,
            max_msat: new.max_msat,
            uses: new.uses,
            used: 0,
            title,
            created_at: now,
            expires_at,
            disabled: false,
        };
        self.store.create_withdraw_link(&link).await?;
        tracing::info!(account = %account.id, max_msat = link.max_msat.msat(), uses = link.uses, "withdraw link created");
        let urls = self.link_urls(&account, &link.k1)?;
        Ok((link, urls))
    }

    /// The link named `k1`; [`Error::UnknownLink`] when there is none.
    pub async fn withdraw_link(&self, k1: &K1) -> Result<WithdrawLink, Error> {
        self.store
            .withdraw_link(k1.as_str())
            .await?
            .ok_or(Error::UnknownLink)
    }

    /// The link with its account and URLs.
    pub async fn withdraw_link_view(
        &self,
        k1: &K1,
    ) -> Result<(WithdrawLink, Account, LinkUrls), Error> {
        let link = self.withdraw_link(k1).await?;
        let account = self
            .store
            .account(&link.account_id)
            .await?
            .ok_or(Error::UnknownLink)?;
        let urls = self.link_urls(&account, &link.k1)?;
        Ok((link, account, urls))
    }

    /// Disables a link for good.
    pub async fn disable_withdraw_link(&self, k1: &K1) -> Result<WithdrawLink, Error> {
        self.withdraw_link(k1).await?;
        let link = self
            .store
            .disable_withdraw_link(k1.as_str())
            .await?
            .ok_or(Error::UnknownLink)?;
        tracing::info!(account = %link.account_id, "withdraw link disabled");
        Ok(link)
    }

    fn link_urls(&self, account: &Account, k1: &str) -> Result<LinkUrls, Error> {
        let domain = self.domains.served(&account.domain)?;
        let url = format!("{}/lnurlw/{k1}", domain.public_url);
        let lnurl = crate::lnurl::encode(&url).map_err(Refusal::PublicUrlTooLong)?;
        Ok(LinkUrls {
            lnurlw: lud03::lnurlw_url(&url),
            page: format!("{}/withdraw/{k1}", domain.public_url),
            url,
            lnurl,
        })
    }

    /// Why a link cannot pay now; `None` when it can.
    fn unusable(link: &WithdrawLink, now: u64) -> Option<Refusal> {
        if link.disabled {
            Some(Refusal::LinkDisabled)
        } else if link.is_expired(now) {
            Some(Refusal::LinkExpired)
        } else if link.uses_left() == 0 {
            Some(Refusal::LinkUsedUp)
        } else {
            None
        }
    }

    /// The amounts a wallet may withdraw now: the link's bounds, the maximum lowered to what the
    /// balance pays after the fee reserve. When even the minimum is out of reach, both are 0
    /// (LUD-03 "Zero balance": a success with nothing to withdraw, not an error).
    pub fn withdrawable(&self, link: &WithdrawLink, balance: Msat) -> (Msat, Msat) {
        let affordable = self.settings.max_payable(balance);
        if affordable < link.min_msat {
            return (Msat::ZERO, Msat::ZERO);
        }
        (link.min_msat, link.max_msat.min(affordable))
    }

    /// LUD-03 §2: the link as a wallet sees it. Unusable links answer a protocol error.
    pub async fn withdraw_request(
        &self,
        k1: &K1,
    ) -> Result<(WithdrawLink, LinkUrls, Msat, Msat), Error> {
        let (link, account, urls) = self.withdraw_link_view(k1).await?;
        if let Some(reason) = Self::unusable(&link, unix_now()) {
            return Err(reason.into());
        }
        let (min, max) = self.withdrawable(&link, account.balance_msat);
        Ok((link, urls, min, max))
    }

    /// LUD-03 §3-4: checks the wallet's invoice and reserves the withdrawal, then hands it to
    /// the payer. Anything refused changes nothing.
    pub async fn withdraw_callback(
        &self,
        k1: &K1,
        query_k1: Option<&str>,
        pr: Option<&str>,
    ) -> Result<(), Error> {
        let link = self.withdraw_link(k1).await?;
        if query_k1 != Some(k1.as_str()) {
            return Err(Refusal::K1Mismatch.into());
        }
        let now = unix_now();
        if let Some(reason) = Self::unusable(&link, now) {
            return Err(reason.into());
        }
        let pr = pr
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or(Refusal::MissingPr)?;
        let network = self.node.network().await?;
        let checked = lud03::check_invoice(pr, link.min_msat, link.max_msat, network, now)
            .map_err(Refusal::Invoice)?;
        // Rule 1, the payment engine's check: internal only for the very invoice we issued.
        let ours = self.store.invoice(&checked.payment_hash).await?;
        let internal = match payments::invoice::route(
            pr,
            ours.as_ref(),
            &link.account_id,
            &self.node.node_id(),
            now,
        ) {
            Ok(route) => route == payments::Route::Internal,
            Err(payments::Refusal::OwnInvoice) => return Err(Refusal::OwnInvoice.into()),
            Err(refusal) => return Err(Refusal::InvoiceRefused(refusal).into()),
        };
        let fee_reserve = if internal {
            Msat::ZERO
        } else {
            self.settings.fee_reserve(checked.amount)
        };
        let reservation = Reservation {
            k1: link.k1.clone(),
            payment_hash: checked.payment_hash,
            bolt11: pr.to_string(),
            amount: checked.amount,
            fee_reserve,
            internal,
            title: link.title.clone(),
            now,
        };
        let refused = |r: Refusal| Err(r.into());
        match self.store.reserve_withdrawal(&reservation).await? {
            ReserveOutcome::Reserved(payment) => {
                tracing::info!(account = %payment.account_id, payment_hash = %payment.payment_hash,
                    amount_msat = payment.amount_msat.msat(), fee_reserve_msat = fee_reserve.msat(), internal,
                    "withdrawal reserved");
                self.payer.submit(*payment);
                Ok(())
            }
            ReserveOutcome::UnknownLink => Err(Error::UnknownLink),
            ReserveOutcome::Disabled => refused(Refusal::LinkDisabled),
            ReserveOutcome::Expired => refused(Refusal::LinkExpired),
            ReserveOutcome::UsedUp => refused(Refusal::LinkUsedUp),
            ReserveOutcome::InsufficientBalance => refused(Refusal::InsufficientBalance),
            ReserveOutcome::DuplicatePayment => refused(Refusal::AlreadyBeingPaid),
        }
    }
}
