//! Storage layout and TTL management of the redemption contract.
//!
//! * instance storage: `DataKey::Admin`;
//! * persistent storage: `DataKey::Redemption(id)`, one entry per redemption.
//!
//! Every call extends the instance TTL, and every access to a redemption
//! extends that entry, so live data never gets archived.

use soroban_sdk::{contracttype, Address, Env, String, Symbol};

/// Ledgers close roughly every 5 seconds: 24 * 60 * 60 / 5 = 17 280 ledgers a day.
pub const DAY_IN_LEDGERS: u32 = 17_280;
/// The instance (admin) is extended to live 30 days ...
pub const INSTANCE_BUMP_AMOUNT: u32 = 30 * DAY_IN_LEDGERS;
/// ... whenever fewer than 29 days are left.
pub const INSTANCE_LIFETIME_THRESHOLD: u32 = INSTANCE_BUMP_AMOUNT - DAY_IN_LEDGERS;
/// A redemption entry is extended to live 90 days ...
pub const PERSISTENT_BUMP_AMOUNT: u32 = 90 * DAY_IN_LEDGERS;
/// ... whenever fewer than 89 days are left.
pub const PERSISTENT_LIFETIME_THRESHOLD: u32 = PERSISTENT_BUMP_AMOUNT - DAY_IN_LEDGERS;

/// Status machine: `Open -> Confirmed` or `Open -> Cancelled`; both are final.
#[contracttype]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum RedemptionStatus {
    Open,
    Confirmed,
    Cancelled,
}

/// A holder redeeming `amount` stroops of rewards at a merchant.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Redemption {
    /// Platform-assigned redemption id (1..=64 bytes, e.g. a UUID).
    pub id: String,
    pub holder: Address,
    pub merchant: Address,
    /// Amount in stroops; always > 0.
    pub amount: i128,
    pub status: RedemptionStatus,
    /// Ledger timestamp (unix seconds) of `open`.
    pub opened_at: u64,
    /// Ledger timestamp of `confirm` / `cancel`; 0 while `Open`.
    pub closed_at: u64,
    /// The reason code given to `cancel`; `None` unless `Cancelled`.
    pub cancel_reason: Option<Symbol>,
}

#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataKey {
    Admin,
    Redemption(String),
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

pub fn has_redemption(env: &Env, id: &String) -> bool {
    env.storage()
        .persistent()
        .has(&DataKey::Redemption(id.clone()))
}

pub fn get_redemption(env: &Env, id: &String) -> Option<Redemption> {
    let key = DataKey::Redemption(id.clone());
    let redemption: Option<Redemption> = env.storage().persistent().get(&key);
    if redemption.is_some() {
        env.storage().persistent().extend_ttl(
            &key,
            PERSISTENT_LIFETIME_THRESHOLD,
            PERSISTENT_BUMP_AMOUNT,
        );
    }
    redemption
}

pub fn set_redemption(env: &Env, redemption: &Redemption) {
    let key = DataKey::Redemption(redemption.id.clone());
    env.storage().persistent().set(&key, redemption);
    env.storage().persistent().extend_ttl(
        &key,
        PERSISTENT_LIFETIME_THRESHOLD,
        PERSISTENT_BUMP_AMOUNT,
    );
}
