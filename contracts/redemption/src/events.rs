//! Typed events published by the redemption contract.
//!
//! Every event's first topic is the snake_case name of its struct (for
//! example `redemption_opened`), followed by the fields marked `#[topic]`.
//! The remaining fields are published as the event data, a map keyed by the
//! field names.

use soroban_sdk::{contractevent, Address, String, Symbol};

/// Published once by `initialize`.
/// Topics: `["initialized"]`; data: `{admin}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Initialized {
    pub admin: Address,
}

/// Published by `open`.
/// Topics: `["redemption_opened", id]`; data: `{holder, merchant, amount, at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RedemptionOpened {
    #[topic]
    pub id: String,
    pub holder: Address,
    pub merchant: Address,
    pub amount: i128,
    pub at: u64,
}

/// Published by `confirm`.
/// Topics: `["redemption_confirmed", id]`; data: `{holder, merchant, amount, at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RedemptionConfirmed {
    #[topic]
    pub id: String,
    pub holder: Address,
    pub merchant: Address,
    pub amount: i128,
    pub at: u64,
}

/// Published by `cancel`.
/// Topics: `["redemption_cancelled", id]`; data: `{reason, at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RedemptionCancelled {
    #[topic]
    pub id: String,
    pub reason: Symbol,
    pub at: u64,
}
