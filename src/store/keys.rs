//! Redis key names: the only place they are spelled. The layout works unchanged on a single server
//! and on Redis Cluster, because every key that one atomic operation (one Lua script) touches shares
//! the account's hash tag `{a:<id>}`, so they live in one slot.
//!
//! | key | type | holds | written by |
//! | --- | --- | --- | --- |
//! | `{a:<id>}` | hash | `json` (the [`Account`](super::Account) record) and `balance` (msat, decimal) | `create_account`, `set_nostr_pubkey`, `credit_settlement`, `delete_account` |
//! | `{a:<id>}:txs` | list | ledger entries (JSON), newest at the head | `credit_settlement` |
//! | `{a:<id>}:inv:<hash>` | hash | `json` (the [`InvoiceRecord`](super::InvoiceRecord)) and `settled` once credited | `add_invoice`, `credit_settlement` |
//! | `name:<domain>/<user>` | string | the account id that owns the name | `create_account` (SET NX), `delete_account` |
//! | `inv:<hash>` | string | the account id an invoice belongs to | `add_invoice` (SET NX) |
//! | `cursor:<node id>` | string | the node's last processed settle index | `advance_settle_cursor` (Lua max) |
//! | `meta:<key>` | string | write-once shared state (generated keys) | `put_meta_once` (SET NX) |
//! | `{a:<id>}:zap:<hash>` | string | the zap receipt job ([`ZapJob`](super::ZapJob) JSON) | `credit_settlement` (in its script), `save_zap_job` |
//! | `{zapq}` | sorted set | receipt jobs by due time (ms); member `<id>/<hash>` | `add_invoice` (ZADD NX), `credit_settlement` (ZADD LT), claim and save scripts |
//! | `{zapq}:lease` | hash | member → the process holding its lease | claim and save scripts |
//! | `spend:<a/id or d/domain>:<day>` | string | msat spent through the payment engine that UTC day by an account or a domain, expires after 2 days | `take_daily_spend`, `give_back_daily_spend` (Lua) |
//! | `rl:<bucket>` | string | a rate-limit bucket's GCRA arrival time (ms, server clock), with a TTL | `take_token` (Lua) |
//! | `{a:<id>}:wl:<k1>` | hash | a withdraw link: `json` (the [`WithdrawLink`](super::WithdrawLink) as created), `uses`, `used`, `expires_at` (0: never), `disabled` | `create_withdraw_link`, `reserve_withdrawal`, `finish_withdrawal`, `disable_withdraw_link` |
//! | `wl:<k1>` | string | the account id a withdraw link belongs to | `create_withdraw_link` (SET NX) |
//! | `{a:<id>}:wd:<hash>` | hash | a withdrawal: `json` (the [`Payment`](super::Payment)), `status`, `tx` (its ledger entry exactly as in the ledger list) | `reserve_withdrawal`, `finish_withdrawal` |
//! | `wd:<hash>` | string | the account id a withdrawal's payment hash is claimed by | `reserve_withdrawal` (SET NX) |
//! | `wd:pending` | set | `<id>:<hash>` of withdrawals that may still be pending | `reserve_withdrawal`, `finish_withdrawal`, `pending_withdrawals` |
//! | `lh:login:<login>` | string | an LndHub credential ([`LndhubCredential`](super::LndhubCredential) JSON, password hashed) | `create_lndhub_credential` (SET NX), `revoke_lndhub_credential` (GETDEL) |
//! | `{a:<id>}:lh:logins` | set | the logins of the account's LndHub credentials | `create_lndhub_credential`, `revoke_lndhub_credential` |
//! | `lh:tok:<sha256>` | string | an LndHub bearer token ([`LndhubToken`](super::LndhubToken) JSON), expiring with it | `put_lndhub_token` (SET EXAT), `take_lndhub_token` (GETDEL) |
//! | `lh:invite:<sha256>` | string | a registration invite ([`Invite`](super::Invite) JSON), expiring with it | `create_invite`, `take_invite` (GETDEL) |
//! | `{a:<id>}:lh:invs` | list | payment hashes of the account's LndHub `addinvoice` invoices, newest first | `note_lndhub_invoice` (LPUSH, LTRIM) |
//! | `webhooks` | hash | webhook id → the [`Webhook`](super::webhooks::Webhook) JSON (with its signing secret) | `create_webhook`, `delete_webhook` |
//! | `{a:<id>}:whe:<event id>` | string | a webhook event's delivery job ([`DeliveryJob`](super::webhooks::DeliveryJob) JSON) | `credit_settlement` (in its script), `save_webhook_job` |
//! | `{whq}` | sorted set | delivery jobs by due time (ms); member `<id>/<event id>` | `credit_settlement` (ZADD NX before, ZADD LT after its script), claim and release scripts |
//! | `{whq}:lease` | hash | member → the process holding its lease | claim and release scripts |
//! | `{whq}:age` | sorted set | unfinished members by queue time (ms), for the oldest-pending metric | enqueue and release scripts |
//! | `{dom}` | hash | domain name → [`DomainRecord`](super::DomainRecord) JSON (domains added at run time) | `add_domain`, `update_domain`, `remove_domain` (Lua) |
//! | `{dom}:version` | string | counter bumped by every domain change; every process polls it | the same scripts (INCR) |
//! | `{dom}:tokens` | hash | sha256 of a domain token (hex) → [`DomainToken`](super::DomainToken) JSON | `add_domain_token`, `remove_domain_token`, `remove_domain` (Lua) |
//! | `{dom}:token-ids` | hash | token id → sha256 of the token | the same scripts |
//! | `{a:<id>}:nwc:<wallet pubkey>` | hash | an NWC connection: `json` (the [`NwcConnection`](super::NwcConnection) as created), `revoked`, budget `used` (msat) and `period` (its start), `hold:<event id>` = `<amount>:<period>` per request holding budget | `create_nwc_connection`, `revoke_nwc_connection`, budget scripts |
//! | `nwc:<wallet pubkey>` | string | the account id an NWC connection belongs to | `create_nwc_connection` (SET NX) |
//! | `nwc:all` | set | `<id>/<wallet pubkey>` of every NWC connection | `create_nwc_connection` |
//! | `nwcreq:<event id>` | string | an NWC request: `c:<claimed at>:<event JSON>` while it runs, `a:<response JSON>` once answered; expires after 7 days | `claim_nwc_request`, `renew_nwc_request`, `answer_nwc_request` |
//! | `nwcreq:open` | set | event ids of NWC requests that may be running (read to run again those whose runner died) | `claim_nwc_request` (SADD, only before a new claim), `answer_nwc_request`, `stale_nwc_requests` (SREM) |
//!
//! Crash consistency: writes to different slots cannot be one transaction, so each multi-key
//! operation writes in an order where a crash in between leaves nothing that matters:
//! - `create_account` writes the account record first, then claims the name with `SET NX`. A crash
//!   in between leaves an account record no name points to: balance zero, unreachable, harmless.
//! - `delete_account` removes the account record first (atomically with its zero-balance check),
//!   then the name. A crash in between leaves a name pointing at a missing account; lookups treat
//!   it as unknown and `create_account` takes such a name over with a compare-and-set.
//! - `add_invoice` writes the global `inv:<hash>` index before the invoice record, and both before
//!   the invoice is handed to a wallet. An index without a record is an invoice nobody was given:
//!   it is treated as unknown, and a retry of `add_invoice` completes it.
//! - `credit_settlement` is one script over one slot: marking the invoice settled, adding to the
//!   balance, pushing the ledger entry and, for a zap, writing its receipt job happen together or
//!   not at all.
//! - The zap due queue `{zapq}` is one global key, so the credit script cannot touch it. A zap
//!   invoice is entered in it by `add_invoice`, before a wallet sees the invoice, due at the
//!   invoice's expiry plus a grace period; after a credit the entry is moved to "due now". A crash
//!   between the credit and that move only delays the receipt until the pre-registered time; a
//!   claimed entry without a job (never paid) is rescheduled, then dropped a day after expiry.
//! - Webhook events use the same split: the job is written by the credit script in the account's
//!   slot; the global queue `{whq}` is fed *before* the script (ZADD NX, due a couple of minutes
//!   later) and moved to "due now" after it. A crash before the script leaves an entry without a
//!   job, which its claimer drops (the replayed settlement enters it again); a crash after the
//!   script, or a lost answer, only delays the delivery to the pre-entered time.

use crate::types::{DomainName, PaymentHash, Username};

use super::AccountId;

/// The account's hash tag; every per-account key starts with it.
fn tag(id: &AccountId) -> String {
    format!("{{a:{id}}}")
}

/// The account record: hash with `json` and `balance`.
pub fn account(id: &AccountId) -> String {
    tag(id)
}

/// The account's ledger: list, newest first.
pub fn ledger(id: &AccountId) -> String {
    format!("{}:txs", tag(id))
}

/// An invoice of the account: hash with `json` and, once credited, `settled`.
pub fn invoice(id: &AccountId, hash: &PaymentHash) -> String {
    format!("{}:inv:{hash}", tag(id))
}

/// Global index: payment hash → account id.
pub fn invoice_owner(hash: &PaymentHash) -> String {
    format!("inv:{hash}")
}

/// Global index: name on a domain → account id.
pub fn name(domain: &DomainName, username: &Username) -> String {
    name_of(domain.as_str(), username.as_str())
}

/// Same as [`name`] for a record's stored domain and username strings.
pub fn name_of(domain: &str, username: &str) -> String {
    format!("name:{domain}/{username}")
}

/// SCAN pattern matching every name key, or those of one domain.
pub fn name_pattern(domain: Option<&DomainName>) -> String {
    match domain {
        Some(d) => format!("name:{}/*", glob_escape(d.as_str())),
        None => "name:*".to_string(),
    }
}

/// The settle cursor of a Lightning node.
pub fn cursor(node_id: &str) -> String {
    format!("cursor:{node_id}")
}

/// A daily spending counter of the payment engine (`a/<account id>` or `d/<domain>`, UTC day).
pub fn daily_spend(key: &str, day: u64) -> String {
    format!("spend:{key}:{day}")
}

/// A write-once meta value.
pub fn meta(key: &str) -> String {
    format!("meta:{key}")
}

/// The receipt job of a zap invoice, in the account's slot (written by the credit script).
pub fn zap_job(id: &AccountId, hash: &PaymentHash) -> String {
    format!("{}:zap:{hash}", tag(id))
}

/// Global due queue of receipt jobs (sorted set, score = due ms).
pub const ZAP_QUEUE: &str = "{zapq}";
/// Lease holders of claimed receipt jobs (hash, same slot as [`ZAP_QUEUE`]).
pub const ZAP_LEASES: &str = "{zapq}:lease";

/// The member naming a job in [`ZAP_QUEUE`].
pub fn zap_member(id: &AccountId, hash: &PaymentHash) -> String {
    format!("{id}/{hash}")
}

/// Every registered webhook (hash: id → JSON).
pub const WEBHOOKS: &str = "webhooks";

/// The delivery job of a webhook event, in the account's slot (written by the credit script).
pub fn webhook_job(id: &AccountId, event_id: &str) -> String {
    format!("{}:whe:{event_id}", tag(id))
}

/// Global due queue of webhook deliveries (sorted set, score = due ms).
pub const WEBHOOK_QUEUE: &str = "{whq}";
/// Lease holders of claimed deliveries (hash, same slot as [`WEBHOOK_QUEUE`]).
pub const WEBHOOK_LEASES: &str = "{whq}:lease";
/// Unfinished deliveries by queue time (sorted set, same slot as [`WEBHOOK_QUEUE`]).
pub const WEBHOOK_AGE: &str = "{whq}:age";

/// The member naming a job in [`WEBHOOK_QUEUE`].
pub fn webhook_member(id: &AccountId, event_id: &str) -> String {
    format!("{id}/{event_id}")
}

/// A rate-limit bucket (`rl:acct:<domain>/<user>`); one key, so one slot.
pub fn rate_limit(bucket: &str) -> String {
    format!("rl:{bucket}")
}

/// A withdraw link of the account (LUD-03).
pub fn withdraw_link(id: &AccountId, k1: &str) -> String {
    format!("{}:wl:{k1}", tag(id))
}

/// Global index: withdraw link k1 → account id.
pub fn withdraw_link_owner(k1: &str) -> String {
    format!("wl:{k1}")
}

/// A withdrawal from the account.
pub fn withdrawal(id: &AccountId, hash: &PaymentHash) -> String {
    format!("{}:wd:{hash}", tag(id))
}

/// Global claim: a withdrawal's payment hash → account id (one withdrawal per hash).
pub fn withdrawal_owner(hash: &PaymentHash) -> String {
    format!("wd:{hash}")
}

/// The lease on a pending payment: the id of the process working on it, with a TTL (PX).
pub fn payment_lease(hash: &PaymentHash) -> String {
    format!("wd:lease:{hash}")
}

/// Global set of withdrawals that may be pending, as `<id>:<hash>` members.
pub fn withdrawals_pending() -> &'static str {
    "wd:pending"
}

/// Domains added at run time (hash: name → record JSON). All domain keys share the `{dom}` tag.
pub const DOMAINS: &str = "{dom}";
/// The domains' version counter, polled by every process.
pub const DOMAINS_VERSION: &str = "{dom}:version";
/// Domain tokens by the sha256 of the token.
pub const DOMAIN_TOKENS: &str = "{dom}:tokens";
/// Domain token ids → the sha256 of the token.
pub const DOMAIN_TOKEN_IDS: &str = "{dom}:token-ids";
/// An LndHub credential, by login.
pub fn lndhub_login(login: &str) -> String {
    format!("lh:login:{login}")
}

/// The logins of an account's LndHub credentials.
pub fn lndhub_logins(id: &AccountId) -> String {
    format!("{}:lh:logins", tag(id))
}

/// An LndHub bearer token, by the hex sha256 of the token.
pub fn lndhub_token(hash: &str) -> String {
    format!("lh:tok:{hash}")
}

/// A registration invite, by the hex sha256 of the code.
pub fn lndhub_invite(hash: &str) -> String {
    format!("lh:invite:{hash}")
}

/// The payment hashes of an account's LndHub invoices, newest first.
pub fn lndhub_invoices(id: &AccountId) -> String {
    format!("{}:lh:invs", tag(id))
}

/// An NWC connection of the account (NIP-47), named by its wallet service public key.
pub fn nwc_connection(id: &AccountId, wallet: &str) -> String {
    format!("{}:nwc:{wallet}", tag(id))
}

/// Global index: NWC wallet service public key → account id.
pub fn nwc_owner(wallet: &str) -> String {
    format!("nwc:{wallet}")
}

/// Global set of every NWC connection, as `<id>/<wallet pubkey>` members.
pub const NWC_ALL: &str = "nwc:all";

/// Global set of NWC requests that may be running (event ids); no event id is `open`.
pub const NWC_OPEN: &str = "nwcreq:open";

/// An NWC request's claim or answer.
pub fn nwc_request(event_id: &str) -> String {
    format!("nwcreq:{event_id}")
}

/// Field names inside the hashes.
pub const FIELD_JSON: &str = "json";
pub const FIELD_BALANCE: &str = "balance";
pub const FIELD_SETTLED: &str = "settled";

/// Escapes the glob characters of SCAN's MATCH.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash tag Redis Cluster uses: the text between the first `{` and the next `}`.
    fn hash_tag(key: &str) -> &str {
        let open = key.find('{').expect("has a tag");
        let close = key[open..].find('}').expect("closed") + open;
        &key[open + 1..close]
    }

    #[test]
    fn per_account_keys_share_one_slot() {
        let id = AccountId("00ff".into());
        let hash = PaymentHash([3u8; 32]);
        let account_key = account(&id);
        let tag = hash_tag(&account_key);
        assert_eq!(tag, "a:00ff");
        assert_eq!(hash_tag(&ledger(&id)), tag);
        assert_eq!(hash_tag(&invoice(&id, &hash)), tag);
        assert_eq!(hash_tag(&zap_job(&id, &hash)), tag);
        assert_eq!(hash_tag(ZAP_QUEUE), hash_tag(ZAP_LEASES));
        assert_eq!(hash_tag(&webhook_job(&id, "evt_1")), tag);
        assert_eq!(hash_tag(WEBHOOK_QUEUE), hash_tag(WEBHOOK_LEASES));
        assert_eq!(hash_tag(WEBHOOK_QUEUE), hash_tag(WEBHOOK_AGE));
        assert_eq!(hash_tag(&withdraw_link(&id, "k1")), tag);
        assert_eq!(hash_tag(&withdrawal(&id, &hash)), tag);
        assert!(!withdraw_link_owner("k1").contains('{'));
        for key in [DOMAINS_VERSION, DOMAIN_TOKENS, DOMAIN_TOKEN_IDS] {
            assert_eq!(hash_tag(key), hash_tag(DOMAINS), "{key}");
        }
        assert!(!withdrawal_owner(&hash).contains('{'));
    }

    #[test]
    fn global_keys_have_no_tag_and_name_escapes_globs() {
        let d = DomainName::parse("example.com").expect("domain");
        let u = Username::parse("alice").expect("user");
        assert_eq!(name(&d, &u), "name:example.com/alice");
        assert_eq!(name_of("example.com", "alice"), name(&d, &u));
        assert!(!invoice_owner(&PaymentHash([0u8; 32])).contains('{'));
        assert_eq!(name_pattern(Some(&d)), "name:example.com/*");
        assert_eq!(glob_escape("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }
}
