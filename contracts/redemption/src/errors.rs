use soroban_sdk::contracterror;

/// Errors returned by the redemption contract.
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
    /// `open` was called with an id that already exists (in any status).
    AlreadyExists = 3,
    /// No redemption exists under the given id.
    NotFound = 4,
    /// The amount is zero or negative.
    InvalidAmount = 5,
    /// `confirm` or `cancel` was called on a redemption that is not `Open`.
    NotOpen = 6,
    /// The redemption id is empty or longer than `MAX_ID_LEN` bytes.
    InvalidId = 7,
}
