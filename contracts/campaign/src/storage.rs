//! Storage layout and TTL management of the campaign contract.
//!
//! * instance storage: `DataKey::Admin` (lives as long as the contract);
//! * persistent storage: `DataKey::Campaign(id)`, one entry per campaign.
//!
//! Every call extends the instance TTL, and every access to a campaign
//! extends that campaign's entry, so active data never gets archived.

use soroban_sdk::{contracttype, Address, Env, String};

/// Ledgers close roughly every 5 seconds: 24 * 60 * 60 / 5 = 17 280 ledgers a day.
pub const DAY_IN_LEDGERS: u32 = 17_280;
/// The instance (admin) is extended to live 30 days ...
pub const INSTANCE_BUMP_AMOUNT: u32 = 30 * DAY_IN_LEDGERS;
/// ... whenever fewer than 29 days are left.
pub const INSTANCE_LIFETIME_THRESHOLD: u32 = INSTANCE_BUMP_AMOUNT - DAY_IN_LEDGERS;
/// A campaign entry is extended to live 90 days ...
pub const PERSISTENT_BUMP_AMOUNT: u32 = 90 * DAY_IN_LEDGERS;
/// ... whenever fewer than 89 days are left.
pub const PERSISTENT_LIFETIME_THRESHOLD: u32 = PERSISTENT_BUMP_AMOUNT - DAY_IN_LEDGERS;

/// Lifecycle status of a campaign.
#[contracttype]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum CampaignStatus {
    Active,
    Paused,
}

/// A reward campaign run by a merchant on the platform.
#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Campaign {
    /// Platform-assigned campaign id (1..=64 bytes, e.g. a UUID).
    pub id: String,
    /// The merchant funding the campaign.
    pub merchant: Address,
    /// Budget in stroops (1 XLM = 10^7 stroops); always > 0.
    pub budget: i128,
    /// Unix seconds; always `starts_at < ends_at`.
    pub starts_at: u64,
    /// Unix seconds.
    pub ends_at: u64,
    pub status: CampaignStatus,
}

#[contracttype]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataKey {
    Admin,
    Campaign(String),
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

pub fn has_campaign(env: &Env, id: &String) -> bool {
    env.storage()
        .persistent()
        .has(&DataKey::Campaign(id.clone()))
}

pub fn get_campaign(env: &Env, id: &String) -> Option<Campaign> {
    let key = DataKey::Campaign(id.clone());
    let campaign: Option<Campaign> = env.storage().persistent().get(&key);
    if campaign.is_some() {
        env.storage().persistent().extend_ttl(
            &key,
            PERSISTENT_LIFETIME_THRESHOLD,
            PERSISTENT_BUMP_AMOUNT,
        );
    }
    campaign
}

pub fn set_campaign(env: &Env, campaign: &Campaign) {
    let key = DataKey::Campaign(campaign.id.clone());
    env.storage().persistent().set(&key, campaign);
    env.storage().persistent().extend_ttl(
        &key,
        PERSISTENT_LIFETIME_THRESHOLD,
        PERSISTENT_BUMP_AMOUNT,
    );
}
