//! Test support shared by the integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod gateway;
pub mod lnd_gateway;
pub mod multi;
pub mod node_suite;
pub mod nwc;
pub mod nwc_suite;
pub mod outbox_suite;
pub mod process;
pub mod redis_server;
pub mod store_suite;
pub mod wallet;
pub mod webhook_receiver;
pub mod webhook_suite;
pub mod withdraw_suite;
pub mod zaps;
