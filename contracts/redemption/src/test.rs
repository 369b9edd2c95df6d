#![cfg(test)]
extern crate std;

use super::*;
use soroban_sdk::{
    symbol_short,
    testutils::{
        storage::{Instance as _, Persistent as _},
        Address as _, EnvTestConfig, Events as _, Ledger as _, MockAuth, MockAuthInvoke,
    },
    vec,
    xdr::{HostFunction, InvokeContractArgs, ScAddress, ScErrorCode, ScErrorType, ScSymbol, ScVal},
    Address, Env, IntoVal, InvokeError, Map, String, Symbol, TryFromVal, Val, Vec,
};

/// One XLM in stroops.
const XLM: i128 = 10_000_000;
const T0: u64 = 1_700_000_000;

struct Setup<'a> {
    env: Env,
    id: Address,
    admin: Address,
    holder: Address,
    merchant: Address,
    client: RedemptionContractClient<'a>,
}

fn new_env() -> Env {
    let env = Env::new_with_config(EnvTestConfig {
        capture_snapshot_at_drop: false,
    });
    env.ledger().with_mut(|l| {
        l.timestamp = T0;
        l.sequence_number = 100;
    });
    env
}

fn setup<'a>() -> Setup<'a> {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(RedemptionContract, ());
    let client = RedemptionContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    client.initialize(&admin);
    Setup {
        holder: Address::generate(&env),
        merchant: Address::generate(&env),
        env,
        id,
        admin,
        client,
    }
}

fn s(env: &Env, v: &str) -> String {
    String::from_str(env, v)
}

fn event(
    env: &Env,
    contract: &Address,
    topics: Vec<Val>,
    data: &[(&str, Val)],
) -> (Address, Vec<Val>, Val) {
    let mut map = Map::<Symbol, Val>::new(env);
    for (k, v) in data {
        map.set(Symbol::new(env, k), *v);
    }
    (contract.clone(), topics, map.into_val(env))
}

fn no_events(env: &Env) -> Vec<(Address, Vec<Val>, Val)> {
    Vec::new(env)
}

fn auth_error() -> soroban_sdk::Error {
    soroban_sdk::Error::from_type_and_code(ScErrorType::Auth, ScErrorCode::InvalidAction)
}

/// Invokes `func` as a top-level host function (like a transaction would)
/// and returns the host's granular error.
fn raw_call(
    env: &Env,
    contract: &Address,
    func: &str,
    args: Vec<Val>,
) -> Result<(), soroban_sdk::Error> {
    let args: std::vec::Vec<ScVal> = args
        .iter()
        .map(|v| ScVal::try_from_val(env, &v).unwrap())
        .collect();
    let hf = HostFunction::InvokeContract(InvokeContractArgs {
        contract_address: ScAddress::from(contract),
        function_name: ScSymbol(func.try_into().unwrap()),
        args: args.try_into().unwrap(),
    });
    env.host()
        .invoke_function(hf)
        .map(|_| ())
        .map_err(|e| e.error)
}

// ---------------------------------------------------------------- initialize

#[test]
fn initialize_sets_admin_and_emits_event() {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(RedemptionContract, ());
    let client = RedemptionContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    assert_eq!(client.try_admin(), Err(Ok(Error::NotInitialized)));
    client.initialize(&admin);
    assert_eq!(
        env.events().all(),
        vec![
            &env,
            event(
                &env,
                &id,
                (Symbol::new(&env, "initialized"),).into_val(&env),
                &[("admin", admin.into_val(&env))],
            )
        ]
    );
    assert_eq!(client.admin(), admin);
}

#[test]
fn initialize_twice_fails() {
    let t = setup();
    assert_eq!(
        t.client.try_initialize(&Address::generate(&t.env)),
        Err(Ok(Error::AlreadyInitialized))
    );
    assert_eq!(t.client.admin(), t.admin);
}

#[test]
fn initialize_requires_the_admins_own_auth() {
    let env = new_env();
    let id = env.register(RedemptionContract, ());
    let client = RedemptionContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    let intruder = Address::generate(&env);
    env.set_auths(&[]);
    assert_eq!(
        raw_call(&env, &id, "initialize", (admin.clone(),).into_val(&env)),
        Err(auth_error())
    );
    env.mock_auths(&[MockAuth {
        address: &intruder,
        invoke: &MockAuthInvoke {
            contract: &id,
            fn_name: "initialize",
            args: (admin.clone(),).into_val(&env),
            sub_invokes: &[],
        },
    }]);
    assert_eq!(client.try_initialize(&admin), Err(Err(InvokeError::Abort)));
    assert_eq!(client.try_admin(), Err(Ok(Error::NotInitialized)));
    env.mock_auths(&[MockAuth {
        address: &admin,
        invoke: &MockAuthInvoke {
            contract: &id,
            fn_name: "initialize",
            args: (admin.clone(),).into_val(&env),
            sub_invokes: &[],
        },
    }]);
    client.initialize(&admin);
    assert_eq!(client.admin(), admin);
}

#[test]
fn mutations_before_initialize_fail() {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(RedemptionContract, ());
    let client = RedemptionContractClient::new(&env, &id);
    let rid = s(&env, "r1");
    let a = Address::generate(&env);
    assert_eq!(
        client.try_open(&rid, &a, &a, &1),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(client.try_confirm(&rid), Err(Ok(Error::NotInitialized)));
    assert_eq!(
        client.try_cancel(&rid, &symbol_short!("expired")),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(client.try_get(&rid), Err(Ok(Error::NotFound)));
}

// ---------------------------------------------------------- happy paths

#[test]
fn open_stores_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let rid = s(env, "0b9e6d1c-4f7a-4c53-8d2e-5a1f3c7b9e20");
    t.client.open(&rid, &t.holder, &t.merchant, &(250 * XLM));
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "redemption_opened"), rid.clone()).into_val(env),
                &[
                    ("holder", t.holder.into_val(env)),
                    ("merchant", t.merchant.into_val(env)),
                    ("amount", (250 * XLM).into_val(env)),
                    ("at", T0.into_val(env)),
                ],
            )
        ]
    );
    assert_eq!(
        t.client.get(&rid),
        Redemption {
            id: rid.clone(),
            holder: t.holder.clone(),
            merchant: t.merchant.clone(),
            amount: 250 * XLM,
            status: RedemptionStatus::Open,
            opened_at: T0,
            closed_at: 0,
            cancel_reason: None,
        }
    );
}

#[test]
fn confirm_closes_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let rid = s(env, "r1");
    t.client.open(&rid, &t.holder, &t.merchant, &7);
    env.ledger().with_mut(|l| l.timestamp = T0 + 30);
    t.client.confirm(&rid);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "redemption_confirmed"), rid.clone()).into_val(env),
                &[
                    ("holder", t.holder.into_val(env)),
                    ("merchant", t.merchant.into_val(env)),
                    ("amount", 7i128.into_val(env)),
                    ("at", (T0 + 30).into_val(env)),
                ],
            )
        ]
    );
    let r = t.client.get(&rid);
    assert_eq!(r.status, RedemptionStatus::Confirmed);
    assert_eq!(
        (r.opened_at, r.closed_at, r.cancel_reason),
        (T0, T0 + 30, None)
    );
}

#[test]
fn cancel_closes_with_reason_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let rid = s(env, "r1");
    t.client.open(&rid, &t.holder, &t.merchant, &7);
    env.ledger().with_mut(|l| l.timestamp = T0 + 90);
    let reason = Symbol::new(env, "merchant_declined");
    t.client.cancel(&rid, &reason);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "redemption_cancelled"), rid.clone()).into_val(env),
                &[
                    ("reason", reason.into_val(env)),
                    ("at", (T0 + 90).into_val(env))
                ],
            )
        ]
    );
    let r = t.client.get(&rid);
    assert_eq!(r.status, RedemptionStatus::Cancelled);
    assert_eq!((r.closed_at, r.cancel_reason), (T0 + 90, Some(reason)));
}

#[test]
fn open_validates_arguments() {
    let t = setup();
    let env = &t.env;
    let rid = s(env, "r1");
    assert_eq!(
        t.client.try_open(&rid, &t.holder, &t.merchant, &0),
        Err(Ok(Error::InvalidAmount))
    );
    assert_eq!(
        t.client.try_open(&rid, &t.holder, &t.merchant, &i128::MIN),
        Err(Ok(Error::InvalidAmount))
    );
    assert_eq!(
        t.client.try_open(&s(env, ""), &t.holder, &t.merchant, &1),
        Err(Ok(Error::InvalidId))
    );
    let too_long = "z".repeat(MAX_ID_LEN as usize + 1);
    assert_eq!(
        t.client
            .try_open(&s(env, &too_long), &t.holder, &t.merchant, &1),
        Err(Ok(Error::InvalidId))
    );
    assert_eq!(env.events().all(), no_events(env));
    assert_eq!(t.client.try_get(&rid), Err(Ok(Error::NotFound)));
    let longest = "z".repeat(MAX_ID_LEN as usize);
    t.client
        .open(&s(env, &longest), &t.holder, &t.merchant, &i128::MAX);
    assert_eq!(t.client.get(&s(env, &longest)).amount, i128::MAX);
}

#[test]
fn get_unknown_fails() {
    let t = setup();
    assert_eq!(
        t.client.try_get(&s(&t.env, "nope")),
        Err(Ok(Error::NotFound))
    );
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(Error::AlreadyInitialized as u32, 1);
    assert_eq!(Error::NotInitialized as u32, 2);
    assert_eq!(Error::AlreadyExists as u32, 3);
    assert_eq!(Error::NotFound as u32, 4);
    assert_eq!(Error::InvalidAmount as u32, 5);
    assert_eq!(Error::NotOpen as u32, 6);
    assert_eq!(Error::InvalidId as u32, 7);
}

// --------------------------------------------- exhaustive transition matrix

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Missing,
    Open,
    Confirmed,
    Cancelled,
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Open,
    Confirm,
    Cancel,
}

/// Drives redemption `r1` into `from`.
fn arrange(t: &Setup, from: State) -> String {
    let rid = s(&t.env, "r1");
    if from != State::Missing {
        t.client.open(&rid, &t.holder, &t.merchant, &100);
    }
    match from {
        State::Confirmed => t.client.confirm(&rid),
        State::Cancelled => t.client.cancel(&rid, &symbol_short!("expired")),
        _ => {}
    }
    rid
}

fn act(t: &Setup, rid: &String, action: Action) -> Result<(), Error> {
    let res = match action {
        Action::Open => t.client.try_open(rid, &t.holder, &t.merchant, &55),
        Action::Confirm => t.client.try_confirm(rid),
        Action::Cancel => t.client.try_cancel(rid, &symbol_short!("fraud")),
    };
    match res {
        Ok(Ok(())) => Ok(()),
        Err(Ok(e)) => Err(e),
        other => panic!("unexpected result {other:?}"),
    }
}

#[test]
fn every_state_times_every_action() {
    use Action as A;
    use RedemptionStatus as S;
    use State as F;
    let table: [(F, A, Result<S, Error>); 12] = [
        (F::Missing, A::Open, Ok(S::Open)),
        (F::Missing, A::Confirm, Err(Error::NotFound)),
        (F::Missing, A::Cancel, Err(Error::NotFound)),
        (F::Open, A::Open, Err(Error::AlreadyExists)),
        (F::Open, A::Confirm, Ok(S::Confirmed)),
        (F::Open, A::Cancel, Ok(S::Cancelled)),
        (F::Confirmed, A::Open, Err(Error::AlreadyExists)),
        (F::Confirmed, A::Confirm, Err(Error::NotOpen)),
        (F::Confirmed, A::Cancel, Err(Error::NotOpen)),
        (F::Cancelled, A::Open, Err(Error::AlreadyExists)),
        (F::Cancelled, A::Confirm, Err(Error::NotOpen)),
        (F::Cancelled, A::Cancel, Err(Error::NotOpen)),
    ];
    for (from, action, expected) in table {
        let t = setup();
        let rid = arrange(&t, from);
        let before = t.client.try_get(&rid);
        let res = act(&t, &rid, action);
        match expected {
            Ok(status) => {
                assert_eq!(res, Ok(()), "{from:?} x {action:?}");
                assert_eq!(
                    t.env.events().all().events().len(),
                    1,
                    "{from:?} x {action:?}"
                );
                assert_eq!(t.client.get(&rid).status, status, "{from:?} x {action:?}");
            }
            Err(e) => {
                assert_eq!(res, Err(e), "{from:?} x {action:?}");
                assert_eq!(
                    t.env.events().all(),
                    no_events(&t.env),
                    "{from:?} x {action:?}"
                );
                // A refused transition changes nothing.
                assert_eq!(t.client.try_get(&rid), before, "{from:?} x {action:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------- auth

fn admin_calls(t: &Setup) -> std::vec::Vec<(&'static str, Vec<Val>)> {
    let env = &t.env;
    std::vec![
        (
            "open",
            (s(env, "r2"), t.holder.clone(), t.merchant.clone(), 5i128).into_val(env)
        ),
        ("confirm", (s(env, "r1"),).into_val(env)),
        (
            "cancel",
            (s(env, "r3"), symbol_short!("expired")).into_val(env)
        ),
    ]
}

fn open_r1_r3(t: &Setup) {
    t.client.open(&s(&t.env, "r1"), &t.holder, &t.merchant, &1);
    t.client.open(&s(&t.env, "r3"), &t.holder, &t.merchant, &1);
}

#[test]
fn admin_functions_refuse_missing_auth() {
    let t = setup();
    open_r1_r3(&t);
    t.env.set_auths(&[]);
    for (func, args) in admin_calls(&t) {
        assert_eq!(
            raw_call(&t.env, &t.id, func, args),
            Err(auth_error()),
            "{func}"
        );
    }
}

#[test]
fn admin_functions_refuse_non_admin_signer() {
    let t = setup();
    let env = &t.env;
    open_r1_r3(&t);
    // Neither a stranger nor the parties of the redemption may drive it.
    for signer in [Address::generate(env), t.holder.clone(), t.merchant.clone()] {
        for (func, args) in admin_calls(&t) {
            env.mock_auths(&[MockAuth {
                address: &signer,
                invoke: &MockAuthInvoke {
                    contract: &t.id,
                    fn_name: func,
                    args: args.clone(),
                    sub_invokes: &[],
                },
            }]);
            assert_eq!(
                raw_call(env, &t.id, func, args),
                Err(auth_error()),
                "{func}"
            );
        }
    }
    env.mock_auths(&[MockAuth {
        address: &t.holder,
        invoke: &MockAuthInvoke {
            contract: &t.id,
            fn_name: "confirm",
            args: (s(env, "r1"),).into_val(env),
            sub_invokes: &[],
        },
    }]);
    assert_eq!(
        t.client.try_confirm(&s(env, "r1")),
        Err(Err(InvokeError::Abort))
    );
    assert_eq!(t.client.get(&s(env, "r1")).status, RedemptionStatus::Open);
    assert_eq!(t.client.try_get(&s(env, "r2")), Err(Ok(Error::NotFound)));
}

#[test]
fn admin_functions_accept_admin_signer() {
    let t = setup();
    let env = &t.env;
    open_r1_r3(&t);
    for (func, args) in admin_calls(&t) {
        env.mock_auths(&[MockAuth {
            address: &t.admin,
            invoke: &MockAuthInvoke {
                contract: &t.id,
                fn_name: func,
                args: args.clone(),
                sub_invokes: &[],
            },
        }]);
        assert_eq!(raw_call(env, &t.id, func, args), Ok(()), "{func}");
        let auths = env.auths();
        assert_eq!(auths.len(), 1, "{func}");
        assert_eq!(auths[0].0, t.admin);
    }
    assert_eq!(
        t.client.get(&s(env, "r1")).status,
        RedemptionStatus::Confirmed
    );
    assert_eq!(t.client.get(&s(env, "r2")).status, RedemptionStatus::Open);
    assert_eq!(
        t.client.get(&s(env, "r3")).status,
        RedemptionStatus::Cancelled
    );
}

// ----------------------------------------------------------------------- ttl

#[test]
fn ttl_is_extended() {
    let t = setup();
    let rid = s(&t.env, "r1");
    t.client.open(&rid, &t.holder, &t.merchant, &1);
    let key = DataKey::Redemption(rid.clone());
    t.env.as_contract(&t.id, || {
        assert_eq!(t.env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            t.env.storage().persistent().get_ttl(&key),
            PERSISTENT_BUMP_AMOUNT
        );
    });
    let seq = t.env.ledger().sequence() + PERSISTENT_BUMP_AMOUNT - 5;
    t.env.ledger().with_mut(|l| l.sequence_number = seq);
    t.env.as_contract(&t.id, || {
        assert_eq!(t.env.storage().persistent().get_ttl(&key), 5);
    });
    t.client.get(&rid);
    t.env.as_contract(&t.id, || {
        assert_eq!(t.env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            t.env.storage().persistent().get_ttl(&key),
            PERSISTENT_BUMP_AMOUNT
        );
    });
}
