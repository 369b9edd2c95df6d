//! Storage layout and TTL management of the vesting contract.
//!
//! * instance storage: `DataKey::Admin`;
//! * persistent storage: `DataKey::Schedule(id)`, one entry per schedule, and
//!   `DataKey::Payment(hash)` -> schedule id, one entry per recorded release
//!   (so the same payment can never be recorded twice).
//!
//! Every call extends the instance TTL, and every access to a schedule
//! extends that entry, so live data never gets archived.

use soroban_sdk::{contracttype, Address, BytesN, Env, String};

/// Ledgers close roughly every 5 seconds: 24 * 60 * 60 / 5 = 17 280 ledgers a day.
pub const DAY_IN_LEDGERS: u32 = 17_280;
/// The instance (admin) is extended to live 30 days ...
pub const INSTANCE_BUMP_AMOUNT: u32 = 30 * DAY_IN_LEDGERS;
/// ... whenever fewer than 29 days are left.
pub const INSTANCE_LIFETIME_THRESHOLD: u32 = INSTANCE_BUMP_AMOUNT - DAY_IN_LEDGERS;
/// Schedule and payment entries are extended to live 90 days ...
pub const PERSISTENT_BUMP_AMOUNT: u32 = 90 * DAY_IN_LEDGERS;
/// ... whenever fewer than 89 days are left.
pub const PERSISTENT_LIFETIME_THRESHOLD: u32 = PERSISTENT_BUMP_AMOUNT - DAY_IN_LEDGERS;

/// A vesting schedule as stored.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Schedule {
    /// Platform-assigned schedule id (1..=64 bytes).
    pub id: String,
    pub beneficiary: Address,
    /// Total amount in stroops; always > 0.
    pub total: i128,
    /// Unix seconds; `start <= cliff <= end`, `start < end`.
    pub start: u64,
    pub cliff: u64,
    pub end: u64,
    /// Vesting granularity in seconds (> 0), counted from `start`.
    pub interval: u64,
    pub revocable: bool,
    /// Cumulative amount recorded as released; `0 <= released <= total`.
    pub released: i128,
    /// Ledger time of `revoke`, if revoked; vesting is frozen there.
    pub revoked_at: Option<u64>,
}

/// What `get` returns: the schedule plus the amounts at the current ledger time.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ScheduleView {
    pub id: String,
    pub beneficiary: Address,
    pub total: i128,
    pub start: u64,
    pub cliff: u64,
    pub end: u64,
    pub interval: u64,
    pub revocable: bool,
    pub released: i128,
    pub revoked_at: Option<u64>,
    /// Vested at `as_of`.
    pub vested: i128,
    /// `vested - released`.
    pub releasable: i128,
    /// The ledger timestamp the amounts were computed at.
    pub as_of: u64,
}

#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataKey {
    Admin,
    Schedule(String),
    Payment(BytesN<32>),
}

pub fn extend_instance(env: &Env) {
    env.storage()
        .instance()
        .extend_ttl(INSTANCE_LIFETIME_THRESHOLD, INSTANCE_BUMP_AMOUNT);
}

pub fn has_admin(env: &Env) -> bool {
    env.storage().instance().has(&DataKey::Admin)
}

pub fn get_admin(env: &Env) -> Option<Address> {
    env.storage().instance().get(&DataKey::Admin)
}

pub fn set_admin(env: &Env, admin: &Address) {
    env.storage().instance().set(&DataKey::Admin, admin);
}

fn extend_persistent(env: &Env, key: &DataKey) {
    env.storage().persistent().extend_ttl(
        key,
        PERSISTENT_LIFETIME_THRESHOLD,
        PERSISTENT_BUMP_AMOUNT,
    );
}

pub fn has_schedule(env: &Env, id: &String) -> bool {
    env.storage()
        .persistent()
        .has(&DataKey::Schedule(id.clone()))
}

pub fn get_schedule(env: &Env, id: &String) -> Option<Schedule> {
    let key = DataKey::Schedule(id.clone());
    let schedule: Option<Schedule> = env.storage().persistent().get(&key);
    if schedule.is_some() {
        extend_persistent(env, &key);
    }
    schedule
}

pub fn set_schedule(env: &Env, schedule: &Schedule) {
    let key = DataKey::Schedule(schedule.id.clone());
    env.storage().persistent().set(&key, schedule);
    extend_persistent(env, &key);
}

pub fn has_payment(env: &Env, hash: &BytesN<32>) -> bool {
    env.storage()
        .persistent()
        .has(&DataKey::Payment(hash.clone()))
}

pub fn set_payment(env: &Env, hash: &BytesN<32>, schedule_id: &String) {
    let key = DataKey::Payment(hash.clone());
    env.storage().persistent().set(&key, schedule_id);
    extend_persistent(env, &key);
}
