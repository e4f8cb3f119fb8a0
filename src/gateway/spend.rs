//! Spending from an account through the payment engine, for the admin API and the CLI
//! (`lnaddr pay`): the address resolved to its account, then [`crate::payments::Payments`].

use std::time::Duration;

use super::{Error, Gateway};
use crate::payments::{Payment, Source, SpendRequest};
use crate::types::{Msat, PaymentHash};

impl Gateway {
    /// Pays `invoice` from the account at `address`, waiting up to `wait` for a final state.
    pub async fn pay_from(
        &self,
        address: &crate::types::LightningAddress,
        invoice: &str,
        amount: Option<Msat>,
        idempotency_key: Option<String>,
        memo: Option<String>,
        wait: Duration,
    ) -> Result<Payment, Error> {
        let account = self.account(address).await?;
        let request = SpendRequest {
            account_id: account.id,
            bolt11: invoice.to_string(),
            amount,
            source: Source::Admin,
            idempotency_key,
            memo,
        };
        Ok(self.payments.pay(request, wait).await?)
    }

    /// One payment by its hash.
    pub async fn payment(&self, hash: &PaymentHash) -> Result<Payment, Error> {
        self.payments
            .payment(hash)
            .await?
            .ok_or(Error::UnknownPayment)
    }
}
