//! Nova Rewards redemptions.
//!
//! The platform (the admin set once by `initialize`) records a holder's
//! redemption of rewards at a merchant: it `open`s the redemption, then either
//! `confirm`s it (the merchant delivered) or `cancel`s it with a reason code.
//! The status machine is `Open -> Confirmed | Cancelled`; every other
//! transition is refused with a numbered error. Redemptions are identified by
//! a platform-assigned `String` id (1..=64 bytes); amounts are `i128` stroops.
#![no_std]

mod errors;
mod events;
mod storage;

#[cfg(test)]
mod test;

pub use crate::errors::Error;
pub use crate::events::{Initialized, RedemptionCancelled, RedemptionConfirmed, RedemptionOpened};
pub use crate::storage::{
    DataKey, Redemption, RedemptionStatus, DAY_IN_LEDGERS, INSTANCE_BUMP_AMOUNT,
    INSTANCE_LIFETIME_THRESHOLD, PERSISTENT_BUMP_AMOUNT, PERSISTENT_LIFETIME_THRESHOLD,
};

use soroban_sdk::{contract, contractimpl, Address, Env, String, Symbol};

/// Longest accepted redemption id, in bytes.
pub const MAX_ID_LEN: u32 = 64;

#[contract]
pub struct RedemptionContract;

/// Loads the admin and requires its authorization for the current call.
fn require_admin(env: &Env) -> Result<Address, Error> {
    let admin = storage::get_admin(env).ok_or(Error::NotInitialized)?;
    admin.require_auth();
    storage::extend_instance(env);
    Ok(admin)
}

/// Loads a redemption that must still be `Open`.
fn load_open(env: &Env, id: &String) -> Result<Redemption, Error> {
    let redemption = storage::get_redemption(env, id).ok_or(Error::NotFound)?;
    if redemption.status != RedemptionStatus::Open {
        return Err(Error::NotOpen);
    }
    Ok(redemption)
}

#[contractimpl]
impl RedemptionContract {
    /// Sets the admin (the platform account). Can be called once; requires
    /// the admin's own authorization.
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

    /// Opens a redemption of `amount` stroops (> 0) by `holder` at
    /// `merchant` (admin only). Ids are never reused, whatever the status of
    /// the existing redemption.
    pub fn open(
        env: Env,
        id: String,
        holder: Address,
        merchant: Address,
        amount: i128,
    ) -> Result<(), Error> {
        require_admin(&env)?;
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(Error::InvalidId);
        }
        if amount <= 0 {
            return Err(Error::InvalidAmount);
        }
        if storage::has_redemption(&env, &id) {
            return Err(Error::AlreadyExists);
        }
        let at = env.ledger().timestamp();
        let redemption = Redemption {
            id: id.clone(),
            holder: holder.clone(),
            merchant: merchant.clone(),
            amount,
            status: RedemptionStatus::Open,
            opened_at: at,
            closed_at: 0,
            cancel_reason: None,
        };
        storage::set_redemption(&env, &redemption);
        RedemptionOpened {
            id,
            holder,
            merchant,
            amount,
            at,
        }
        .publish(&env);
        Ok(())
    }

    /// Confirms an `Open` redemption (admin only).
    pub fn confirm(env: Env, id: String) -> Result<(), Error> {
        require_admin(&env)?;
        let mut redemption = load_open(&env, &id)?;
        let at = env.ledger().timestamp();
        redemption.status = RedemptionStatus::Confirmed;
        redemption.closed_at = at;
        storage::set_redemption(&env, &redemption);
        RedemptionConfirmed {
            id,
            holder: redemption.holder,
            merchant: redemption.merchant,
            amount: redemption.amount,
            at,
        }
        .publish(&env);
        Ok(())
    }

    /// Cancels an `Open` redemption (admin only). `reason` is a short
    /// machine-readable code such as `expired` or `merchant_declined`.
    pub fn cancel(env: Env, id: String, reason: Symbol) -> Result<(), Error> {
        require_admin(&env)?;
        let mut redemption = load_open(&env, &id)?;
        let at = env.ledger().timestamp();
        redemption.status = RedemptionStatus::Cancelled;
        redemption.closed_at = at;
        redemption.cancel_reason = Some(reason.clone());
        storage::set_redemption(&env, &redemption);
        RedemptionCancelled { id, reason, at }.publish(&env);
        Ok(())
    }

    /// Reads a redemption. Anyone may call it.
    pub fn get(env: Env, id: String) -> Result<Redemption, Error> {
        storage::extend_instance(&env);
        storage::get_redemption(&env, &id).ok_or(Error::NotFound)
    }
}
