//! LNURL-pay endpoints: the Lightning Address lookup (LUD-16/LUD-06), the callback that issues the
//! invoice (LUD-06, LUD-09, LUD-12, LUD-18, NIP-57 zaps), and the verify URL. Each is also served
//! under `/d/{domain}/...` (`named`), for domains whose names are served from another host.

use hyper::StatusCode;

use super::{Answer, json, json_bytes, query_param};
use crate::gateway::Gateway;
use crate::invoices::{AccountInvoices, CallbackParams, zap_pubkey};
use crate::lnurl::pay::{PayCallback, SuccessAction, Verify};

/// `GET /.well-known/lnurlp/{username}`
pub async fn pay_request(
    gw: &Gateway,
    host: Option<&str>,
    named: Option<&str>,
    name: &str,
) -> Answer {
    let domain = gw.domain_for(host, named)?;
    let (account, tagged) = gw.resolve(&domain, name).await?;
    let zaps = zap_pubkey(&domain, &account).is_some();
    let body = gw
        .invoices()
        .pay_entry(&domain, name, &tagged)
        .lookup_body(zaps);
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /lnurlp/{username}/callback?amount=MSAT[&comment=][&payerdata=][&nostr=]`
pub async fn callback(
    gw: &Gateway,
    host: Option<&str>,
    named: Option<&str>,
    name: &str,
    query: Option<&str>,
) -> Answer {
    let domain = gw.domain_for(host, named)?;
    let params = CallbackParams {
        amount: CallbackParams::parse_amount(query_param(query, "amount").as_deref()),
        comment: query_param(query, "comment"),
        payer_data: query_param(query, "payerdata"),
        nostr: raw_query_param(query, "nostr"),
    };
    let issued = gw.invoices().issue(&domain, name, params).await?;
    let body = PayCallback {
        pr: &issued.bolt11,
        routes: [],
        verify: format!(
            "{}/lnurlp/{name}/verify/{}",
            domain.lnurl_base(),
            issued.payment_hash
        ),
        success_action: SuccessAction::message(&format!(
            "Payment received by {}. Thank you!",
            issued.address
        )),
        disposable: false,
    };
    Ok(json(StatusCode::OK, &body))
}

/// A query parameter as sent, still percent-encoded (NIP-57: the zap request's exact bytes).
fn raw_query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_string)
}

/// `GET /lnurlp/{username}/verify/{payment_hash}`
pub async fn verify(
    gw: &Gateway,
    host: Option<&str>,
    named: Option<&str>,
    name: &str,
    hash: &str,
) -> Answer {
    let domain = gw.domain_for(host, named)?;
    let v = gw.verify(&domain, name, hash.parse().ok()).await?;
    Ok(json(
        StatusCode::OK,
        &Verify {
            status: "OK",
            settled: v.settled,
            preimage: v.preimage,
            pr: &v.bolt11,
        },
    ))
}
