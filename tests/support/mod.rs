//! Test support shared by the integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod conformance;
pub mod domain_suite;
pub mod domains;
pub mod gateway;
pub mod http;
pub mod lnd_gateway;
pub mod lndhub;
pub mod lndhub_suite;
pub mod multi;
pub mod node_suite;
pub mod nwc;
pub mod nwc_suite;
pub mod outbox_suite;
pub mod process;
pub mod redis_server;
pub mod store_suite;
pub mod tcp_proxy;
pub mod wallet;
pub mod web;
pub mod webhook_receiver;
pub mod webhook_suite;
pub mod withdraw_suite;
pub mod zaps;
