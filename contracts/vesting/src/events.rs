//! Typed events published by the vesting contract.
//!
//! Every event's first topic is the snake_case name of its struct (for
//! example `schedule_created`), followed by the fields marked `#[topic]`.
//! The remaining fields are published as the event data, a map keyed by the
//! field names.

use soroban_sdk::{contractevent, Address, BytesN, String};

/// Published once by `initialize`.
/// Topics: `["initialized"]`; data: `{admin}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Initialized {
    pub admin: Address,
}

/// Published by `create_schedule`.
/// Topics: `["schedule_created", id]`;
/// data: `{beneficiary, total, start, cliff, end, interval, revocable}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ScheduleCreated {
    #[topic]
    pub id: String,
    pub beneficiary: Address,
    pub total: i128,
    pub start: u64,
    pub cliff: u64,
    pub end: u64,
    pub interval: u64,
    pub revocable: bool,
}

/// Published by `record_release`; `released` is the new cumulative amount.
/// Topics: `["release_recorded", id]`; data: `{amount, released, payment_hash, at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ReleaseRecorded {
    #[topic]
    pub id: String,
    pub amount: i128,
    pub released: i128,
    pub payment_hash: BytesN<32>,
    pub at: u64,
}

/// Published by `revoke`; `vested` is frozen from now on and `unvested`
/// (`total - vested`) will never vest.
/// Topics: `["schedule_revoked", id]`; data: `{vested, unvested, at}`.
#[contractevent]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ScheduleRevoked {
    #[topic]
    pub id: String,
    pub vested: i128,
    pub unvested: i128,
    pub at: u64,
}
