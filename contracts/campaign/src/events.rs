//! Typed events published by the campaign contract.
//!
//! Every event's first topic is the snake_case name of its struct (for
//! example `campaign_registered`), followed by the fields marked `#[topic]`.
//! The remaining fields are published as the event data, a map keyed by the
//! field names.

use soroban_sdk::{contractevent, Address, String};

/// Published once by `initialize`.
/// Topics: `["initialized"]`; data: `{admin}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Initialized {
    pub admin: Address,
}

/// Published by `register`.
/// Topics: `["campaign_registered", id]`; data: `{merchant, budget, starts_at, ends_at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CampaignRegistered {
    #[topic]
    pub id: String,
    pub merchant: Address,
    pub budget: i128,
    pub starts_at: u64,
    pub ends_at: u64,
}

/// Published by `update`, carrying the previous and the new values.
/// Topics: `["campaign_updated", id]`; data: `{old_budget, budget, old_ends_at, ends_at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CampaignUpdated {
    #[topic]
    pub id: String,
    pub old_budget: i128,
    pub budget: i128,
    pub old_ends_at: u64,
    pub ends_at: u64,
}

/// Published by `pause`.
/// Topics: `["campaign_paused", id]`; data: `{at}` (ledger timestamp).
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CampaignPaused {
    #[topic]
    pub id: String,
    pub at: u64,
}

/// Published by `resume`.
/// Topics: `["campaign_resumed", id]`; data: `{at}` (ledger timestamp).
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CampaignResumed {
    #[topic]
    pub id: String,
    pub at: u64,
}
