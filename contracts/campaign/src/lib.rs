//! Nova Rewards campaign registry.
//!
//! The platform (the admin set once by `initialize`) registers the reward
//! campaigns merchants run, updates their budget and end date, and pauses or
//! resumes them. Campaigns are identified by a platform-assigned `String` id
//! (1..=64 bytes, e.g. the backend's UUID). Budgets are `i128` stroops.
#![no_std]

mod errors;
mod events;
mod storage;

#[cfg(test)]
mod test;

pub use crate::errors::Error;
pub use crate::events::{
    CampaignPaused, CampaignRegistered, CampaignResumed, CampaignUpdated, Initialized,
};
pub use crate::storage::{
    Campaign, CampaignStatus, DataKey, DAY_IN_LEDGERS, INSTANCE_BUMP_AMOUNT,
    INSTANCE_LIFETIME_THRESHOLD, PERSISTENT_BUMP_AMOUNT, PERSISTENT_LIFETIME_THRESHOLD,
};

use soroban_sdk::{contract, contractimpl, Address, Env, String};

/// Longest accepted campaign id, in bytes.
pub const MAX_ID_LEN: u32 = 64;

#[contract]
pub struct CampaignContract;

/// Loads the admin and requires its authorization for the current call.
fn require_admin(env: &Env) -> Result<Address, Error> {
    let admin = storage::get_admin(env).ok_or(Error::NotInitialized)?;
    admin.require_auth();
    storage::extend_instance(env);
    Ok(admin)
}

fn validate_id(id: &String) -> Result<(), Error> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(Error::InvalidId);
    }
    Ok(())
}

fn load(env: &Env, id: &String) -> Result<Campaign, Error> {
    storage::get_campaign(env, id).ok_or(Error::CampaignNotFound)
}

#[contractimpl]
impl CampaignContract {
    /// Sets the admin (the platform account). Can be called once; requires
    /// the admin's own authorization so nobody can claim the contract for
    /// someone else.
    pub fn initialize(env: Env, admin: Address) -> Result<(), Error> {
        if storage::has_admin(&env) {
            return Err(Error::AlreadyInitialized);
        }
        admin.require_auth();
        storage::set_admin(&env, &admin);
        storage::extend_instance(&env);
        Initialized { admin }.publish(&env);
        Ok(())
    }

    /// The admin address set by `initialize`.
    pub fn admin(env: Env) -> Result<Address, Error> {
        let admin = storage::get_admin(&env).ok_or(Error::NotInitialized)?;
        storage::extend_instance(&env);
        Ok(admin)
    }

    /// Registers a new campaign (admin only). `budget` is in stroops and must
    /// be > 0; `starts_at < ends_at` (unix seconds). The campaign starts
    /// `Active`.
    pub fn register(
        env: Env,
        id: String,
        merchant: Address,
        budget: i128,
        starts_at: u64,
        ends_at: u64,
    ) -> Result<(), Error> {
        require_admin(&env)?;
        validate_id(&id)?;
        if budget <= 0 {
            return Err(Error::InvalidBudget);
        }
        if starts_at >= ends_at {
            return Err(Error::InvalidSchedule);
        }
        if storage::has_campaign(&env, &id) {
            return Err(Error::CampaignExists);
        }
        let campaign = Campaign {
            id: id.clone(),
            merchant: merchant.clone(),
            budget,
            starts_at,
            ends_at,
            status: CampaignStatus::Active,
        };
        storage::set_campaign(&env, &campaign);
        CampaignRegistered {
            id,
            merchant,
            budget,
            starts_at,
            ends_at,
        }
        .publish(&env);
        Ok(())
    }

    /// Changes the budget (stroops, > 0) and the end (unix seconds, after
    /// `starts_at`) of a campaign (admin only). Works in either status.
    pub fn update(env: Env, id: String, budget: i128, ends_at: u64) -> Result<(), Error> {
        require_admin(&env)?;
        let mut campaign = load(&env, &id)?;
        if budget <= 0 {
            return Err(Error::InvalidBudget);
        }
        if campaign.starts_at >= ends_at {
            return Err(Error::InvalidSchedule);
        }
        let old_budget = campaign.budget;
        let old_ends_at = campaign.ends_at;
        campaign.budget = budget;
        campaign.ends_at = ends_at;
        storage::set_campaign(&env, &campaign);
        CampaignUpdated {
            id,
            old_budget,
            budget,
            old_ends_at,
            ends_at,
        }
        .publish(&env);
        Ok(())
    }

    /// Pauses an active campaign (admin only).
    pub fn pause(env: Env, id: String) -> Result<(), Error> {
        require_admin(&env)?;
        let mut campaign = load(&env, &id)?;
        if campaign.status == CampaignStatus::Paused {
            return Err(Error::AlreadyPaused);
        }
        campaign.status = CampaignStatus::Paused;
        storage::set_campaign(&env, &campaign);
        CampaignPaused {
            id,
            at: env.ledger().timestamp(),
        }
        .publish(&env);
        Ok(())
    }

    /// Resumes a paused campaign (admin only).
    pub fn resume(env: Env, id: String) -> Result<(), Error> {
        require_admin(&env)?;
        let mut campaign = load(&env, &id)?;
        if campaign.status != CampaignStatus::Paused {
            return Err(Error::NotPaused);
        }
        campaign.status = CampaignStatus::Active;
        storage::set_campaign(&env, &campaign);
        CampaignResumed {
            id,
            at: env.ledger().timestamp(),
        }
        .publish(&env);
        Ok(())
    }

    /// Reads a campaign. Anyone may call it.
    pub fn get(env: Env, id: String) -> Result<Campaign, Error> {
        storage::extend_instance(&env);
        load(&env, &id)
    }
}
