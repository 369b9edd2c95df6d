use soroban_sdk::contracterror;

/// Errors returned by the campaign contract.
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
    /// `register` was called with an id that is already registered.
    CampaignExists = 3,
    /// No campaign is registered under the given id.
    CampaignNotFound = 4,
    /// The budget is zero or negative.
    InvalidBudget = 5,
    /// `starts_at` is not strictly before `ends_at`.
    InvalidSchedule = 6,
    /// The campaign id is empty or longer than `MAX_ID_LEN` bytes.
    InvalidId = 7,
    /// `pause` was called on a campaign that is already paused.
    AlreadyPaused = 8,
    /// `resume` was called on a campaign that is not paused.
    NotPaused = 9,
}
