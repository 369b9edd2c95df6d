//! Nova Rewards vesting schedules.
//!
//! The platform (the admin set once by `initialize`) creates vesting
//! schedules for beneficiaries and records the releases (payouts) it makes
//! against them; the contract guarantees that the recorded releases never
//! exceed what has vested at the current ledger time, nor the total.
//!
//! Vesting is linear in whole `interval`s counted from `start`, gated by the
//! cliff: at ledger time `t`
//!
//! * `t < cliff`:  nothing is vested;
//! * `t >= end`:   `total` is vested;
//! * otherwise:    `total * floor((t - start) / interval) * interval / (end - start)`,
//!   rounded down.
//!
//! A revocable schedule can be revoked, which freezes vesting at the revoke
//! time. Schedules are identified by a platform-assigned `String` id
//! (1..=64 bytes); amounts are `i128` stroops, times `u64` unix seconds.
#![no_std]

mod errors;
mod events;
mod storage;

#[cfg(test)]
mod test;

pub use crate::errors::Error;
pub use crate::events::{Initialized, ReleaseRecorded, ScheduleCreated, ScheduleRevoked};
pub use crate::storage::{
    DataKey, Schedule, ScheduleView, DAY_IN_LEDGERS, INSTANCE_BUMP_AMOUNT,
    INSTANCE_LIFETIME_THRESHOLD, PERSISTENT_BUMP_AMOUNT, PERSISTENT_LIFETIME_THRESHOLD,
};

use soroban_sdk::{contract, contractimpl, Address, BytesN, Env, String};

/// Longest accepted schedule id, in bytes.
pub const MAX_ID_LEN: u32 = 64;

#[contract]
pub struct VestingContract;

/// Loads the admin and requires its authorization for the current call.
fn require_admin(env: &Env) -> Result<Address, Error> {
    let admin = storage::get_admin(env).ok_or(Error::NotInitialized)?;
    admin.require_auth();
    storage::extend_instance(env);
    Ok(admin)
}

fn load(env: &Env, id: &String) -> Result<Schedule, Error> {
    storage::get_schedule(env, id).ok_or(Error::ScheduleNotFound)
}

/// `floor(amount * num / den)` for `0 <= amount`, `num < den`, without
/// overflowing: with `amount = q * den + r`, the result is
/// `q * num + floor(r * num / den)`, where `q * num <= amount` and
/// `r * num < den * den <= u128::MAX`.
fn mul_div_floor(amount: i128, num: u64, den: u64) -> Result<i128, Error> {
    if amount < 0 || den == 0 || num >= den {
        return Err(Error::ArithmeticOverflow);
    }
    let den_i = i128::from(den);
    let q = amount.checked_div(den_i).ok_or(Error::ArithmeticOverflow)?;
    let r = amount.checked_rem(den_i).ok_or(Error::ArithmeticOverflow)?;
    let whole = q
        .checked_mul(i128::from(num))
        .ok_or(Error::ArithmeticOverflow)?;
    let part = (r as u128)
        .checked_mul(u128::from(num))
        .ok_or(Error::ArithmeticOverflow)?
        / u128::from(den);
    let part = i128::try_from(part).map_err(|_| Error::ArithmeticOverflow)?;
    whole.checked_add(part).ok_or(Error::ArithmeticOverflow)
}

/// The amount of `schedule` vested at ledger time `now` (frozen at the
/// revoke time for a revoked schedule).
pub fn vested_at(schedule: &Schedule, now: u64) -> Result<i128, Error> {
    let t = match schedule.revoked_at {
        Some(revoked_at) if revoked_at < now => revoked_at,
        _ => now,
    };
    if t < schedule.cliff {
        return Ok(0);
    }
    if t >= schedule.end {
        return Ok(schedule.total);
    }
    // Here start <= cliff <= t < end.
    let duration = schedule
        .end
        .checked_sub(schedule.start)
        .ok_or(Error::ArithmeticOverflow)?;
    let elapsed = t
        .checked_sub(schedule.start)
        .ok_or(Error::ArithmeticOverflow)?;
    let whole_intervals = elapsed
        .checked_div(schedule.interval)
        .ok_or(Error::ArithmeticOverflow)?;
    let vested_time = whole_intervals
        .checked_mul(schedule.interval)
        .ok_or(Error::ArithmeticOverflow)?;
    mul_div_floor(schedule.total, vested_time, duration)
}

#[contractimpl]
impl VestingContract {
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

    /// Creates a schedule vesting `total` stroops (> 0) to `beneficiary`
    /// (admin only). Requires `start <= cliff <= end`, `start < end` and
    /// `interval > 0` (seconds).
    #[allow(clippy::too_many_arguments)]
    pub fn create_schedule(
        env: Env,
        id: String,
        beneficiary: Address,
        total: i128,
        start: u64,
        cliff: u64,
        end: u64,
        interval: u64,
        revocable: bool,
    ) -> Result<(), Error> {
        require_admin(&env)?;
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(Error::InvalidId);
        }
        if total <= 0 {
            return Err(Error::InvalidAmount);
        }
        if !(start <= cliff && cliff <= end && start < end) {
            return Err(Error::InvalidSchedule);
        }
        if interval == 0 {
            return Err(Error::InvalidInterval);
        }
        if storage::has_schedule(&env, &id) {
            return Err(Error::ScheduleExists);
        }
        let schedule = Schedule {
            id: id.clone(),
            beneficiary: beneficiary.clone(),
            total,
            start,
            cliff,
            end,
            interval,
            revocable,
            released: 0,
            revoked_at: None,
        };
        storage::set_schedule(&env, &schedule);
        ScheduleCreated {
            id,
            beneficiary,
            total,
            start,
            cliff,
            end,
            interval,
            revocable,
        }
        .publish(&env);
        Ok(())
    }

    /// Records that `amount` stroops (> 0) were paid out to the beneficiary
    /// by the payment `payment_hash` (admin only). Refused if the cumulative
    /// released amount would exceed the total (`ExceedsTotal`) or what has
    /// vested at the current ledger time (`ExceedsVested`), or if the payment
    /// was already recorded. Returns the new cumulative released amount.
    pub fn record_release(
        env: Env,
        id: String,
        amount: i128,
        payment_hash: BytesN<32>,
    ) -> Result<i128, Error> {
        require_admin(&env)?;
        let mut schedule = load(&env, &id)?;
        if amount <= 0 {
            return Err(Error::InvalidAmount);
        }
        if storage::has_payment(&env, &payment_hash) {
            return Err(Error::PaymentAlreadyRecorded);
        }
        let released = schedule
            .released
            .checked_add(amount)
            .ok_or(Error::ArithmeticOverflow)?;
        if released > schedule.total {
            return Err(Error::ExceedsTotal);
        }
        let now = env.ledger().timestamp();
        if released > vested_at(&schedule, now)? {
            return Err(Error::ExceedsVested);
        }
        schedule.released = released;
        storage::set_schedule(&env, &schedule);
        storage::set_payment(&env, &payment_hash, &id);
        ReleaseRecorded {
            id,
            amount,
            released,
            payment_hash,
            at: now,
        }
        .publish(&env);
        Ok(released)
    }

    /// Revokes a revocable schedule (admin only): what has vested at the
    /// current ledger time stays vested (and releasable), the rest never
    /// vests.
    pub fn revoke(env: Env, id: String) -> Result<(), Error> {
        require_admin(&env)?;
        let mut schedule = load(&env, &id)?;
        if !schedule.revocable {
            return Err(Error::NotRevocable);
        }
        if schedule.revoked_at.is_some() {
            return Err(Error::AlreadyRevoked);
        }
        let now = env.ledger().timestamp();
        let vested = vested_at(&schedule, now)?;
        let unvested = schedule
            .total
            .checked_sub(vested)
            .ok_or(Error::ArithmeticOverflow)?;
        schedule.revoked_at = Some(now);
        storage::set_schedule(&env, &schedule);
        ScheduleRevoked {
            id,
            vested,
            unvested,
            at: now,
        }
        .publish(&env);
        Ok(())
    }

    /// The amount vested at the current ledger time.
    pub fn vested(env: Env, id: String) -> Result<i128, Error> {
        storage::extend_instance(&env);
        let schedule = load(&env, &id)?;
        vested_at(&schedule, env.ledger().timestamp())
    }

    /// The cumulative amount recorded as released.
    pub fn released(env: Env, id: String) -> Result<i128, Error> {
        storage::extend_instance(&env);
        Ok(load(&env, &id)?.released)
    }

    /// The schedule with its vested and releasable amounts at the current
    /// ledger time.
    pub fn get(env: Env, id: String) -> Result<ScheduleView, Error> {
        storage::extend_instance(&env);
        let s = load(&env, &id)?;
        let as_of = env.ledger().timestamp();
        let vested = vested_at(&s, as_of)?;
        let releasable = vested
            .checked_sub(s.released)
            .ok_or(Error::ArithmeticOverflow)?;
        Ok(ScheduleView {
            id: s.id,
            beneficiary: s.beneficiary,
            total: s.total,
            start: s.start,
            cliff: s.cliff,
            end: s.end,
            interval: s.interval,
            revocable: s.revocable,
            released: s.released,
            revoked_at: s.revoked_at,
            vested,
            releasable,
            as_of,
        })
    }
}
