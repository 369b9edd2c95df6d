use soroban_sdk::contracterror;

/// Errors returned by the vesting contract.
///
/// The numeric codes are part of the public interface (they surface to
/// clients as `Error(Contract, #<code>)`): never renumber a variant, only
/// append new ones.
#[contracterror]
#[derive(Copy, Clone, Debug, Eq, PartialEq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Error {
    /// `initialize` was called on a contract that already has an admin.
    AlreadyInitialized = 1,
    /// An admin-only function was called before `initialize`.
    NotInitialized = 2,
    /// `create_schedule` was called with an id that already exists.
    ScheduleExists = 3,
    /// No schedule exists under the given id.
    ScheduleNotFound = 4,
    /// `total` (or a release `amount`) is zero or negative.
    InvalidAmount = 5,
    /// The times are not `start <= cliff <= end` with `start < end`.
    InvalidSchedule = 6,
    /// `interval` is zero.
    InvalidInterval = 7,
    /// The schedule id is empty or longer than `MAX_ID_LEN` bytes.
    InvalidId = 8,
    /// The release would take the released amount above the schedule total.
    ExceedsTotal = 9,
    /// The release would take the released amount above what has vested at
    /// the current ledger time.
    ExceedsVested = 10,
    /// `revoke` was called on a schedule created with `revocable = false`.
    NotRevocable = 11,
    /// `revoke` was called on a schedule that is already revoked.
    AlreadyRevoked = 12,
    /// A release with this payment hash has already been recorded.
    PaymentAlreadyRecorded = 13,
    /// An intermediate amount does not fit in an `i128`.
    ArithmeticOverflow = 14,
}
