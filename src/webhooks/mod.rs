//! Signed webhooks (docs/webhooks.md): the guard that decides which URLs may be posted to
//! ([`guard`], SSRF), the `lnaddr-signature` scheme ([`signature`], pure), one POST over a pinned
//! address ([`client`]), and the [`deliverer`] task that drains the store's durable delivery
//! outbox. Registrations and events live in the store ([`crate::store::webhooks`]); the admin
//! operations are in `gateway::webhooks`.

pub mod client;
pub mod deliverer;
pub mod guard;
pub mod signature;
