#![cfg(test)]
extern crate std;

use super::*;
use soroban_sdk::{
    testutils::{
        storage::{Instance as _, Persistent as _},
        Address as _, EnvTestConfig, Events as _, Ledger as _, MockAuth, MockAuthInvoke,
    },
    vec,
    xdr::{HostFunction, InvokeContractArgs, ScAddress, ScErrorCode, ScErrorType, ScSymbol, ScVal},
    Address, Env, IntoVal, InvokeError, Map, String, Symbol, TryFromVal, Val, Vec,
};

struct Setup<'a> {
    env: Env,
    id: Address,
    admin: Address,
    client: CampaignContractClient<'a>,
}

fn new_env() -> Env {
    let env = Env::new_with_config(EnvTestConfig {
        capture_snapshot_at_drop: false,
    });
    env.ledger().with_mut(|l| {
        l.timestamp = 1_700_000_000;
        l.sequence_number = 100;
    });
    env
}

/// A registered and initialized contract; every auth is mocked (the auth
/// tests below switch to real checks).
fn setup<'a>() -> Setup<'a> {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(CampaignContract, ());
    let client = CampaignContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    client.initialize(&admin);
    Setup {
        env,
        id,
        admin,
        client,
    }
}

fn s(env: &Env, v: &str) -> String {
    String::from_str(env, v)
}

/// Builds the expected (contract, topics, data) tuple of one event.
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

fn auth_error() -> soroban_sdk::Error {
    soroban_sdk::Error::from_type_and_code(ScErrorType::Auth, ScErrorCode::InvalidAction)
}

/// Invokes `func` as a top-level host function (like a transaction would)
/// and returns the host's granular error, so that an authorization failure
/// can be told apart from any other abort.
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

/// One XLM in stroops.
const XLM: i128 = 10_000_000;
const START: u64 = 1_700_000_000;
const END: u64 = 1_700_864_000;

fn register_default(t: &Setup, id: &str) -> (String, Address) {
    let cid = s(&t.env, id);
    let merchant = Address::generate(&t.env);
    t.client
        .register(&cid, &merchant, &(1_000 * XLM), &START, &END);
    (cid, merchant)
}

// ---------------------------------------------------------------- initialize

#[test]
fn initialize_sets_admin_and_emits_event() {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(CampaignContract, ());
    let client = CampaignContractClient::new(&env, &id);
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
    let other = Address::generate(&t.env);
    assert_eq!(
        t.client.try_initialize(&other),
        Err(Ok(Error::AlreadyInitialized))
    );
    assert_eq!(t.client.admin(), t.admin);
}

#[test]
fn initialize_requires_the_admins_own_auth() {
    let env = new_env();
    let id = env.register(CampaignContract, ());
    let client = CampaignContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    let intruder = Address::generate(&env);

    // No authorization at all.
    env.set_auths(&[]);
    assert_eq!(
        raw_call(&env, &id, "initialize", (admin.clone(),).into_val(&env)),
        Err(auth_error())
    );
    // Signed by someone else.
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

    // Signed by the admin.
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
    let id = env.register(CampaignContract, ());
    let client = CampaignContractClient::new(&env, &id);
    let cid = s(&env, "c1");
    let merchant = Address::generate(&env);
    assert_eq!(
        client.try_register(&cid, &merchant, &1, &START, &END),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(
        client.try_update(&cid, &1, &END),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(client.try_pause(&cid), Err(Ok(Error::NotInitialized)));
    assert_eq!(client.try_resume(&cid), Err(Ok(Error::NotInitialized)));
    assert_eq!(client.try_get(&cid), Err(Ok(Error::CampaignNotFound)));
}

// ------------------------------------------------------------------ register

#[test]
fn register_stores_campaign_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let cid = s(env, "7f1c9a2e-0b1d-4e53-9a7e-2f0c4b8d1e66");
    let merchant = Address::generate(env);
    t.client
        .register(&cid, &merchant, &(5_000 * XLM), &START, &END);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "campaign_registered"), cid.clone()).into_val(env),
                &[
                    ("merchant", merchant.into_val(env)),
                    ("budget", (5_000 * XLM).into_val(env)),
                    ("starts_at", START.into_val(env)),
                    ("ends_at", END.into_val(env)),
                ],
            )
        ]
    );
    assert_eq!(
        t.client.get(&cid),
        Campaign {
            id: cid.clone(),
            merchant,
            budget: 5_000 * XLM,
            starts_at: START,
            ends_at: END,
            status: CampaignStatus::Active,
        }
    );
}

#[test]
fn register_duplicate_id_fails() {
    let t = setup();
    let (cid, merchant) = register_default(&t, "c1");
    let other = Address::generate(&t.env);
    assert_eq!(
        t.client.try_register(&cid, &other, &7, &START, &END),
        Err(Ok(Error::CampaignExists))
    );
    // The original is untouched.
    let c = t.client.get(&cid);
    assert_eq!(c.merchant, merchant);
    assert_eq!(c.budget, 1_000 * XLM);
    assert_eq!(Error::CampaignExists as u32, 3);
}

#[test]
fn register_validates_arguments() {
    let t = setup();
    let env = &t.env;
    let m = Address::generate(env);
    let c = s(env, "c1");
    assert_eq!(
        t.client.try_register(&c, &m, &0, &START, &END),
        Err(Ok(Error::InvalidBudget))
    );
    assert_eq!(
        t.client.try_register(&c, &m, &-1, &START, &END),
        Err(Ok(Error::InvalidBudget))
    );
    assert_eq!(
        t.client.try_register(&c, &m, &1, &END, &END),
        Err(Ok(Error::InvalidSchedule))
    );
    assert_eq!(
        t.client.try_register(&c, &m, &1, &END, &START),
        Err(Ok(Error::InvalidSchedule))
    );
    assert_eq!(
        t.client.try_register(&s(env, ""), &m, &1, &START, &END),
        Err(Ok(Error::InvalidId))
    );
    let too_long = "x".repeat(MAX_ID_LEN as usize + 1);
    assert_eq!(
        t.client
            .try_register(&s(env, &too_long), &m, &1, &START, &END),
        Err(Ok(Error::InvalidId))
    );
    // Nothing was stored by the failed calls.
    assert_eq!(t.client.try_get(&c), Err(Ok(Error::CampaignNotFound)));
    // The limits themselves are accepted.
    let longest = "y".repeat(MAX_ID_LEN as usize);
    t.client.register(&s(env, &longest), &m, &1, &0, &1);
    t.client
        .register(&s(env, "max"), &m, &i128::MAX, &0, &u64::MAX);
    assert_eq!(t.client.get(&s(env, "max")).budget, i128::MAX);
}

// -------------------------------------------------------------------- update

#[test]
fn update_changes_budget_and_end_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let (cid, merchant) = register_default(&t, "c1");
    t.client.update(&cid, &42, &(END + 10));
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "campaign_updated"), cid.clone()).into_val(env),
                &[
                    ("old_budget", (1_000 * XLM).into_val(env)),
                    ("budget", 42i128.into_val(env)),
                    ("old_ends_at", END.into_val(env)),
                    ("ends_at", (END + 10).into_val(env)),
                ],
            )
        ]
    );
    assert_eq!(
        t.client.get(&cid),
        Campaign {
            id: cid.clone(),
            merchant,
            budget: 42,
            starts_at: START,
            ends_at: END + 10,
            status: CampaignStatus::Active,
        }
    );
}

#[test]
fn update_errors() {
    let t = setup();
    let env = &t.env;
    let (cid, _) = register_default(&t, "c1");
    assert_eq!(
        t.client.try_update(&s(env, "nope"), &1, &END),
        Err(Ok(Error::CampaignNotFound))
    );
    assert_eq!(
        t.client.try_update(&cid, &0, &END),
        Err(Ok(Error::InvalidBudget))
    );
    assert_eq!(
        t.client.try_update(&cid, &-5, &END),
        Err(Ok(Error::InvalidBudget))
    );
    assert_eq!(
        t.client.try_update(&cid, &1, &START),
        Err(Ok(Error::InvalidSchedule))
    );
    assert_eq!(
        t.client.try_update(&cid, &1, &(START - 1)),
        Err(Ok(Error::InvalidSchedule))
    );
    let c = t.client.get(&cid);
    assert_eq!((c.budget, c.ends_at), (1_000 * XLM, END));
}

#[test]
fn update_works_while_paused() {
    let t = setup();
    let (cid, _) = register_default(&t, "c1");
    t.client.pause(&cid);
    t.client.update(&cid, &9, &(START + 1));
    let c = t.client.get(&cid);
    assert_eq!(
        (c.budget, c.ends_at, c.status),
        (9, START + 1, CampaignStatus::Paused)
    );
}

// ------------------------------------------------------------ pause / resume

#[test]
fn pause_and_resume_emit_events() {
    let t = setup();
    let env = &t.env;
    let (cid, _) = register_default(&t, "c1");

    env.ledger().with_mut(|l| l.timestamp = START + 50);
    t.client.pause(&cid);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "campaign_paused"), cid.clone()).into_val(env),
                &[("at", (START + 50).into_val(env))],
            )
        ]
    );
    assert_eq!(t.client.get(&cid).status, CampaignStatus::Paused);

    env.ledger().with_mut(|l| l.timestamp = START + 60);
    t.client.resume(&cid);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "campaign_resumed"), cid.clone()).into_val(env),
                &[("at", (START + 60).into_val(env))],
            )
        ]
    );
    assert_eq!(t.client.get(&cid).status, CampaignStatus::Active);
}

#[test]
fn pause_and_resume_errors() {
    let t = setup();
    let env = &t.env;
    let (cid, _) = register_default(&t, "c1");
    let missing = s(env, "missing");
    assert_eq!(
        t.client.try_pause(&missing),
        Err(Ok(Error::CampaignNotFound))
    );
    assert_eq!(
        t.client.try_resume(&missing),
        Err(Ok(Error::CampaignNotFound))
    );
    assert_eq!(t.client.try_resume(&cid), Err(Ok(Error::NotPaused)));
    t.client.pause(&cid);
    assert_eq!(t.client.try_pause(&cid), Err(Ok(Error::AlreadyPaused)));
    assert_eq!(t.client.get(&cid).status, CampaignStatus::Paused);
    t.client.resume(&cid);
    assert_eq!(t.client.try_resume(&cid), Err(Ok(Error::NotPaused)));
}

#[test]
fn get_unknown_fails() {
    let t = setup();
    assert_eq!(
        t.client.try_get(&s(&t.env, "unknown")),
        Err(Ok(Error::CampaignNotFound))
    );
}

#[test]
fn reads_emit_no_events() {
    let t = setup();
    let (cid, _) = register_default(&t, "c1");
    t.client.get(&cid);
    assert_eq!(
        t.env.events().all(),
        Vec::<(Address, Vec<Val>, Val)>::new(&t.env)
    );
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(Error::AlreadyInitialized as u32, 1);
    assert_eq!(Error::NotInitialized as u32, 2);
    assert_eq!(Error::CampaignExists as u32, 3);
    assert_eq!(Error::CampaignNotFound as u32, 4);
    assert_eq!(Error::InvalidBudget as u32, 5);
    assert_eq!(Error::InvalidSchedule as u32, 6);
    assert_eq!(Error::InvalidId as u32, 7);
    assert_eq!(Error::AlreadyPaused as u32, 8);
    assert_eq!(Error::NotPaused as u32, 9);
}

// ---------------------------------------------------------------------- auth

/// Every admin-only function, with its arguments, against campaign `c1`.
fn admin_calls(env: &Env) -> std::vec::Vec<(&'static str, Vec<Val>)> {
    let cid = s(env, "c1");
    let merchant = Address::generate(env);
    std::vec![
        (
            "register",
            (s(env, "c2"), merchant, 10i128, START, END).into_val(env)
        ),
        ("update", (cid.clone(), 11i128, END + 1).into_val(env)),
        ("pause", (cid.clone(),).into_val(env)),
        ("resume", (cid,).into_val(env)),
    ]
}

#[test]
fn admin_functions_refuse_missing_auth() {
    let t = setup();
    register_default(&t, "c1");
    t.env.set_auths(&[]);
    for (func, args) in admin_calls(&t.env) {
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
    register_default(&t, "c1");
    let intruder = Address::generate(env);
    for (func, args) in admin_calls(env) {
        env.mock_auths(&[MockAuth {
            address: &intruder,
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
    // Also through the generated client.
    env.mock_auths(&[MockAuth {
        address: &intruder,
        invoke: &MockAuthInvoke {
            contract: &t.id,
            fn_name: "pause",
            args: (s(env, "c1"),).into_val(env),
            sub_invokes: &[],
        },
    }]);
    assert_eq!(
        t.client.try_pause(&s(env, "c1")),
        Err(Err(InvokeError::Abort))
    );
    assert_eq!(t.client.get(&s(env, "c1")).status, CampaignStatus::Active);
}

#[test]
fn admin_functions_accept_admin_signer() {
    let t = setup();
    let env = &t.env;
    register_default(&t, "c1");
    // Order matters: pause then resume.
    for (func, args) in admin_calls(env) {
        env.mock_auths(&[MockAuth {
            address: &t.admin,
            invoke: &MockAuthInvoke {
                contract: &t.id,
                fn_name: func,
                args: args.clone(),
                sub_invokes: &[],
            },
        }]);
        assert_eq!(raw_call(env, &t.id, func, args.clone()), Ok(()), "{func}");
        let auths = env.auths();
        assert_eq!(auths.len(), 1, "{func}");
        assert_eq!(auths[0].0, t.admin);
    }
    assert_eq!(t.client.get(&s(env, "c2")).budget, 10);
    assert_eq!(t.client.get(&s(env, "c1")).budget, 11);
}

// ----------------------------------------------------------------------- ttl

#[test]
fn ttl_is_extended() {
    let t = setup();
    let (cid, _) = register_default(&t, "c1");
    t.env.as_contract(&t.id, || {
        assert_eq!(t.env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            t.env
                .storage()
                .persistent()
                .get_ttl(&DataKey::Campaign(cid.clone())),
            PERSISTENT_BUMP_AMOUNT
        );
    });
    // Let most of the TTL pass: a read extends the entries again.
    let seq = t.env.ledger().sequence() + PERSISTENT_BUMP_AMOUNT - 10;
    t.env.ledger().with_mut(|l| l.sequence_number = seq);
    t.env.as_contract(&t.id, || {
        assert_eq!(
            t.env
                .storage()
                .persistent()
                .get_ttl(&DataKey::Campaign(cid.clone())),
            10
        );
    });
    t.client.get(&cid);
    t.env.as_contract(&t.id, || {
        assert_eq!(t.env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            t.env
                .storage()
                .persistent()
                .get_ttl(&DataKey::Campaign(cid.clone())),
            PERSISTENT_BUMP_AMOUNT
        );
    });
}
