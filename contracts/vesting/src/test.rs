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
    Address, BytesN, Env, IntoVal, InvokeError, Map, String, Symbol, TryFromVal, Val, Vec,
};

// The reference schedule: 1 000 stroops over 1 000 s, in 100 s steps, with
// the cliff 400 s after the start; so vested == whole seconds of vesting time.
const START: u64 = 1_700_000_000;
const CLIFF: u64 = START + 400;
const END: u64 = START + 1_000;
const INTERVAL: u64 = 100;
const TOTAL: i128 = 1_000;

struct Setup<'a> {
    env: Env,
    id: Address,
    admin: Address,
    beneficiary: Address,
    client: VestingContractClient<'a>,
}

fn new_env() -> Env {
    let env = Env::new_with_config(EnvTestConfig {
        capture_snapshot_at_drop: false,
    });
    env.ledger().with_mut(|l| {
        l.timestamp = START - 10;
        l.sequence_number = 100;
    });
    env
}

fn setup<'a>() -> Setup<'a> {
    let env = new_env();
    env.mock_all_auths();
    let id = env.register(VestingContract, ());
    let client = VestingContractClient::new(&env, &id);
    let admin = Address::generate(&env);
    client.initialize(&admin);
    Setup {
        beneficiary: Address::generate(&env),
        env,
        id,
        admin,
        client,
    }
}

fn s(env: &Env, v: &str) -> String {
    String::from_str(env, v)
}

fn hash(env: &Env, n: u8) -> BytesN<32> {
    BytesN::from_array(env, &[n; 32])
}

fn set_time(env: &Env, t: u64) {
    env.ledger().with_mut(|l| l.timestamp = t);
}

/// Creates the reference schedule under `id`.
fn create(t: &Setup, id: &str, revocable: bool) -> String {
    let sid = s(&t.env, id);
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &TOTAL,
        &START,
        &CLIFF,
        &END,
        &INTERVAL,
        &revocable,
    );
    sid
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
    let id = env.register(VestingContract, ());
    let client = VestingContractClient::new(&env, &id);
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
    let id = env.register(VestingContract, ());
    let client = VestingContractClient::new(&env, &id);
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
    let id = env.register(VestingContract, ());
    let client = VestingContractClient::new(&env, &id);
    let sid = s(&env, "v1");
    let b = Address::generate(&env);
    assert_eq!(
        client.try_create_schedule(&sid, &b, &TOTAL, &START, &CLIFF, &END, &INTERVAL, &true),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(
        client.try_record_release(&sid, &1, &hash(&env, 1)),
        Err(Ok(Error::NotInitialized))
    );
    assert_eq!(client.try_revoke(&sid), Err(Ok(Error::NotInitialized)));
    assert_eq!(client.try_get(&sid), Err(Ok(Error::ScheduleNotFound)));
}

// ----------------------------------------------------------- create_schedule

#[test]
fn create_schedule_stores_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", true);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "schedule_created"), sid.clone()).into_val(env),
                &[
                    ("beneficiary", t.beneficiary.into_val(env)),
                    ("total", TOTAL.into_val(env)),
                    ("start", START.into_val(env)),
                    ("cliff", CLIFF.into_val(env)),
                    ("end", END.into_val(env)),
                    ("interval", INTERVAL.into_val(env)),
                    ("revocable", true.into_val(env)),
                ],
            )
        ]
    );
    assert_eq!(
        t.client.get(&sid),
        ScheduleView {
            id: sid.clone(),
            beneficiary: t.beneficiary.clone(),
            total: TOTAL,
            start: START,
            cliff: CLIFF,
            end: END,
            interval: INTERVAL,
            revocable: true,
            released: 0,
            revoked_at: None,
            vested: 0,
            releasable: 0,
            as_of: START - 10,
        }
    );
}

#[test]
fn create_schedule_validates_arguments() {
    let t = setup();
    let env = &t.env;
    let b = &t.beneficiary;
    let sid = s(env, "v1");
    let c = &t.client;
    assert_eq!(
        c.try_create_schedule(&sid, b, &0, &START, &CLIFF, &END, &INTERVAL, &true),
        Err(Ok(Error::InvalidAmount))
    );
    assert_eq!(
        c.try_create_schedule(&sid, b, &-1, &START, &CLIFF, &END, &INTERVAL, &true),
        Err(Ok(Error::InvalidAmount))
    );
    // cliff before start
    assert_eq!(
        c.try_create_schedule(
            &sid,
            b,
            &TOTAL,
            &START,
            &(START - 1),
            &END,
            &INTERVAL,
            &true
        ),
        Err(Ok(Error::InvalidSchedule))
    );
    // cliff after end
    assert_eq!(
        c.try_create_schedule(&sid, b, &TOTAL, &START, &(END + 1), &END, &INTERVAL, &true),
        Err(Ok(Error::InvalidSchedule))
    );
    // start == end
    assert_eq!(
        c.try_create_schedule(&sid, b, &TOTAL, &START, &START, &START, &INTERVAL, &true),
        Err(Ok(Error::InvalidSchedule))
    );
    // end before start
    assert_eq!(
        c.try_create_schedule(&sid, b, &TOTAL, &END, &END, &START, &INTERVAL, &true),
        Err(Ok(Error::InvalidSchedule))
    );
    assert_eq!(
        c.try_create_schedule(&sid, b, &TOTAL, &START, &CLIFF, &END, &0, &true),
        Err(Ok(Error::InvalidInterval))
    );
    assert_eq!(
        c.try_create_schedule(
            &s(env, ""),
            b,
            &TOTAL,
            &START,
            &CLIFF,
            &END,
            &INTERVAL,
            &true
        ),
        Err(Ok(Error::InvalidId))
    );
    let too_long = "v".repeat(MAX_ID_LEN as usize + 1);
    assert_eq!(
        c.try_create_schedule(
            &s(env, &too_long),
            b,
            &TOTAL,
            &START,
            &CLIFF,
            &END,
            &INTERVAL,
            &true
        ),
        Err(Ok(Error::InvalidId))
    );
    assert_eq!(env.events().all(), no_events(env));
    assert_eq!(c.try_get(&sid), Err(Ok(Error::ScheduleNotFound)));
    // Boundaries that are valid: cliff == start, cliff == end.
    c.create_schedule(&s(env, "a"), b, &1, &START, &START, &END, &1, &false);
    c.create_schedule(&s(env, "b"), b, &1, &START, &END, &END, &1, &false);
}

#[test]
fn create_schedule_duplicate_fails() {
    let t = setup();
    let sid = create(&t, "v1", true);
    assert_eq!(
        t.client
            .try_create_schedule(&sid, &t.beneficiary, &5, &START, &START, &END, &1, &false),
        Err(Ok(Error::ScheduleExists))
    );
    assert_eq!(t.client.get(&sid).total, TOTAL);
}

// ---------------------------------------------------------- vesting maths

#[test]
fn vested_at_and_around_the_cliff_and_the_end() {
    let t = setup();
    let sid = create(&t, "v1", false);
    let cases: [(u64, i128); 12] = [
        (START - 1, 0),
        (START, 0),
        (START + 150, 0),
        (CLIFF - 1, 0),
        (CLIFF, 400),
        (CLIFF + 1, 400),
        (CLIFF + 99, 400),
        (CLIFF + 100, 500),
        (END - 1, 900),
        (END, 1_000),
        (END + 1, 1_000),
        (u64::MAX, 1_000),
    ];
    for (time, expected) in cases {
        set_time(&t.env, time);
        assert_eq!(
            t.client.vested(&sid),
            expected,
            "t = start + {}",
            time as i128 - START as i128
        );
        let view = t.client.get(&sid);
        assert_eq!(
            (view.vested, view.releasable, view.as_of),
            (expected, expected, time)
        );
    }
}

#[test]
fn vesting_rounds_down() {
    let t = setup();
    let env = &t.env;
    // 10 stroops over 3 intervals of 1 s: 3.33.. -> 3, 6.66.. -> 6, then 10.
    let sid = s(env, "odd");
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &10,
        &START,
        &START,
        &(START + 3),
        &1,
        &false,
    );
    for (time, expected) in [(START, 0), (START + 1, 3), (START + 2, 6), (START + 3, 10)] {
        set_time(env, time);
        assert_eq!(t.client.vested(&sid), expected);
    }
    // An interval that does not divide the duration: 100 over 250 s in 100 s
    // steps vests 40 at +100, 80 at +200, everything at the end.
    let sid = s(env, "uneven");
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &100,
        &START,
        &START,
        &(START + 250),
        &100,
        &false,
    );
    for (time, expected) in [
        (START + 99, 0),
        (START + 100, 40),
        (START + 249, 80),
        (START + 250, 100),
    ] {
        set_time(env, time);
        assert_eq!(t.client.vested(&sid), expected);
    }
    // An interval longer than the duration: nothing until the end.
    let sid = s(env, "long");
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &100,
        &START,
        &START,
        &(START + 10),
        &1_000,
        &false,
    );
    set_time(env, START + 9);
    assert_eq!(t.client.vested(&sid), 0);
    set_time(env, START + 10);
    assert_eq!(t.client.vested(&sid), 100);
}

#[test]
fn cliff_at_end_vests_everything_at_once() {
    let t = setup();
    let sid = s(&t.env, "v");
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &TOTAL,
        &START,
        &END,
        &END,
        &INTERVAL,
        &false,
    );
    set_time(&t.env, END - 1);
    assert_eq!(t.client.vested(&sid), 0);
    set_time(&t.env, END);
    assert_eq!(t.client.vested(&sid), TOTAL);
}

#[test]
fn vesting_extreme_values_do_not_overflow() {
    let t = setup();
    let sid = s(&t.env, "max");
    t.client.create_schedule(
        &sid,
        &t.beneficiary,
        &i128::MAX,
        &0,
        &0,
        &u64::MAX,
        &1,
        &false,
    );
    set_time(&t.env, 1u64 << 63);
    // floor((2^127 - 1) * 2^63 / (2^64 - 1))
    assert_eq!(
        t.client.vested(&sid),
        85070591730234615870455337876369440767
    );
    set_time(&t.env, u64::MAX - 1);
    // floor((2^127 - 1) * (2^64 - 2) / (2^64 - 1))
    assert_eq!(
        t.client.vested(&sid),
        170141183460469231722463931679029329918
    );
    set_time(&t.env, u64::MAX);
    assert_eq!(t.client.vested(&sid), i128::MAX);
}

#[test]
fn mul_div_floor_guards() {
    assert_eq!(mul_div_floor(-1, 1, 2), Err(Error::ArithmeticOverflow));
    assert_eq!(mul_div_floor(1, 2, 2), Err(Error::ArithmeticOverflow));
    assert_eq!(mul_div_floor(1, 0, 0), Err(Error::ArithmeticOverflow));
    assert_eq!(
        mul_div_floor(i128::MAX, u64::MAX - 1, u64::MAX),
        Ok(170141183460469231722463931679029329918)
    );
    assert_eq!(mul_div_floor(7, 0, 3), Ok(0));
    assert_eq!(mul_div_floor(7, 2, 3), Ok(4));
}

// ------------------------------------------------------------ record_release

#[test]
fn record_release_updates_released_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", false);
    set_time(env, CLIFF);
    assert_eq!(t.client.record_release(&sid, &150, &hash(env, 1)), 150);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "release_recorded"), sid.clone()).into_val(env),
                &[
                    ("amount", 150i128.into_val(env)),
                    ("released", 150i128.into_val(env)),
                    ("payment_hash", hash(env, 1).into_val(env)),
                    ("at", CLIFF.into_val(env)),
                ],
            )
        ]
    );
    assert_eq!(t.client.released(&sid), 150);
    let view = t.client.get(&sid);
    assert_eq!(
        (view.released, view.vested, view.releasable),
        (150, 400, 250)
    );
    // Exactly everything vested is fine.
    assert_eq!(t.client.record_release(&sid, &250, &hash(env, 2)), 400);
    assert_eq!(t.client.get(&sid).releasable, 0);
}

#[test]
fn record_release_refuses_more_than_vested() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", false);
    set_time(env, CLIFF - 1);
    assert_eq!(
        t.client.try_record_release(&sid, &1, &hash(env, 1)),
        Err(Ok(Error::ExceedsVested))
    );
    set_time(env, CLIFF);
    assert_eq!(
        t.client.try_record_release(&sid, &401, &hash(env, 1)),
        Err(Ok(Error::ExceedsVested))
    );
    assert_eq!(env.events().all(), no_events(env));
    t.client.record_release(&sid, &400, &hash(env, 1));
    set_time(env, END - 1);
    assert_eq!(
        t.client.try_record_release(&sid, &501, &hash(env, 2)),
        Err(Ok(Error::ExceedsVested))
    );
    t.client.record_release(&sid, &500, &hash(env, 2));
    assert_eq!(t.client.released(&sid), 900);
}

#[test]
fn record_release_refuses_more_than_total() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", false);
    set_time(env, END + 1);
    assert_eq!(
        t.client
            .try_record_release(&sid, &(TOTAL + 1), &hash(env, 1)),
        Err(Ok(Error::ExceedsTotal))
    );
    t.client.record_release(&sid, &TOTAL, &hash(env, 1));
    assert_eq!(
        t.client.try_record_release(&sid, &1, &hash(env, 2)),
        Err(Ok(Error::ExceedsTotal))
    );
    assert_eq!(t.client.released(&sid), TOTAL);
}

#[test]
fn record_release_other_errors() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", false);
    set_time(env, END);
    assert_eq!(
        t.client
            .try_record_release(&s(env, "nope"), &1, &hash(env, 1)),
        Err(Ok(Error::ScheduleNotFound))
    );
    assert_eq!(
        t.client.try_record_release(&sid, &0, &hash(env, 1)),
        Err(Ok(Error::InvalidAmount))
    );
    assert_eq!(
        t.client.try_record_release(&sid, &-3, &hash(env, 1)),
        Err(Ok(Error::InvalidAmount))
    );
    t.client.record_release(&sid, &10, &hash(env, 1));
    // The same payment can not be recorded twice, not even for another schedule.
    assert_eq!(
        t.client.try_record_release(&sid, &10, &hash(env, 1)),
        Err(Ok(Error::PaymentAlreadyRecorded))
    );
    let other = create(&t, "v2", false);
    assert_eq!(
        t.client.try_record_release(&other, &10, &hash(env, 1)),
        Err(Ok(Error::PaymentAlreadyRecorded))
    );
    assert_eq!(t.client.released(&sid), 10);
    assert_eq!(t.client.released(&other), 0);
}

#[test]
fn record_release_overflow_is_an_error() {
    let t = setup();
    let env = &t.env;
    let sid = s(env, "max");
    t.client
        .create_schedule(&sid, &t.beneficiary, &i128::MAX, &0, &0, &1, &1, &false);
    set_time(env, 1);
    t.client.record_release(&sid, &1, &hash(env, 1));
    assert_eq!(
        t.client.try_record_release(&sid, &i128::MAX, &hash(env, 2)),
        Err(Ok(Error::ArithmeticOverflow))
    );
    assert_eq!(t.client.released(&sid), 1);
}

// -------------------------------------------------------------------- revoke

#[test]
fn revoke_freezes_vesting_and_emits_event() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", true);
    set_time(env, CLIFF + 150);
    t.client.revoke(&sid);
    assert_eq!(
        env.events().all(),
        vec![
            env,
            event(
                env,
                &t.id,
                (Symbol::new(env, "schedule_revoked"), sid.clone()).into_val(env),
                &[
                    ("vested", 500i128.into_val(env)),
                    ("unvested", 500i128.into_val(env)),
                    ("at", (CLIFF + 150).into_val(env)),
                ],
            )
        ]
    );
    for time in [CLIFF + 150, CLIFF + 151, END - 1, END, END + 1] {
        set_time(env, time);
        assert_eq!(t.client.vested(&sid), 500);
    }
    let view = t.client.get(&sid);
    assert_eq!(view.revoked_at, Some(CLIFF + 150));
    // What vested before the revocation can still be released, not more.
    assert_eq!(
        t.client.try_record_release(&sid, &501, &hash(env, 1)),
        Err(Ok(Error::ExceedsVested))
    );
    assert_eq!(t.client.record_release(&sid, &500, &hash(env, 1)), 500);
}

#[test]
fn revoke_before_cliff_vests_nothing() {
    let t = setup();
    let sid = create(&t, "v1", true);
    set_time(&t.env, CLIFF - 1);
    t.client.revoke(&sid);
    set_time(&t.env, END + 1);
    assert_eq!(t.client.vested(&sid), 0);
    assert_eq!(
        t.client.try_record_release(&sid, &1, &hash(&t.env, 1)),
        Err(Ok(Error::ExceedsVested))
    );
}

#[test]
fn revoke_errors() {
    let t = setup();
    let env = &t.env;
    let fixed = create(&t, "fixed", false);
    let rev = create(&t, "rev", true);
    set_time(env, CLIFF);
    assert_eq!(
        t.client.try_revoke(&s(env, "nope")),
        Err(Ok(Error::ScheduleNotFound))
    );
    assert_eq!(t.client.try_revoke(&fixed), Err(Ok(Error::NotRevocable)));
    assert_eq!(t.client.get(&fixed).revoked_at, None);
    t.client.revoke(&rev);
    set_time(env, END);
    assert_eq!(t.client.try_revoke(&rev), Err(Ok(Error::AlreadyRevoked)));
    assert_eq!(t.client.get(&rev).revoked_at, Some(CLIFF));
    assert_eq!(t.client.vested(&rev), 400);
}

// --------------------------------------------------------------------- reads

#[test]
fn reads_of_unknown_schedules_fail() {
    let t = setup();
    let missing = s(&t.env, "missing");
    assert_eq!(
        t.client.try_vested(&missing),
        Err(Ok(Error::ScheduleNotFound))
    );
    assert_eq!(
        t.client.try_released(&missing),
        Err(Ok(Error::ScheduleNotFound))
    );
    assert_eq!(t.client.try_get(&missing), Err(Ok(Error::ScheduleNotFound)));
}

#[test]
fn error_codes_are_stable() {
    let codes = [
        (Error::AlreadyInitialized, 1),
        (Error::NotInitialized, 2),
        (Error::ScheduleExists, 3),
        (Error::ScheduleNotFound, 4),
        (Error::InvalidAmount, 5),
        (Error::InvalidSchedule, 6),
        (Error::InvalidInterval, 7),
        (Error::InvalidId, 8),
        (Error::ExceedsTotal, 9),
        (Error::ExceedsVested, 10),
        (Error::NotRevocable, 11),
        (Error::AlreadyRevoked, 12),
        (Error::PaymentAlreadyRecorded, 13),
        (Error::ArithmeticOverflow, 14),
    ];
    for (e, code) in codes {
        assert_eq!(e as u32, code);
    }
}

// ---------------------------------------------------------------------- auth

fn admin_calls(t: &Setup) -> std::vec::Vec<(&'static str, Vec<Val>)> {
    let env = &t.env;
    std::vec![
        (
            "create_schedule",
            Vec::from_array(
                env,
                [
                    s(env, "v2").into_val(env),
                    t.beneficiary.into_val(env),
                    TOTAL.into_val(env),
                    START.into_val(env),
                    CLIFF.into_val(env),
                    END.into_val(env),
                    INTERVAL.into_val(env),
                    true.into_val(env),
                ],
            )
        ),
        (
            "record_release",
            (s(env, "v1"), 100i128, hash(env, 9)).into_val(env)
        ),
        ("revoke", (s(env, "v1"),).into_val(env)),
    ]
}

#[test]
fn admin_functions_refuse_missing_auth() {
    let t = setup();
    create(&t, "v1", true);
    set_time(&t.env, END);
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
    create(&t, "v1", true);
    set_time(env, END);
    // Neither a stranger nor the beneficiary may act.
    for signer in [Address::generate(env), t.beneficiary.clone()] {
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
        address: &t.beneficiary,
        invoke: &MockAuthInvoke {
            contract: &t.id,
            fn_name: "record_release",
            args: (s(env, "v1"), 100i128, hash(env, 9)).into_val(env),
            sub_invokes: &[],
        },
    }]);
    assert_eq!(
        t.client
            .try_record_release(&s(env, "v1"), &100, &hash(env, 9)),
        Err(Err(InvokeError::Abort))
    );
    assert_eq!(t.client.released(&s(env, "v1")), 0);
}

#[test]
fn admin_functions_accept_admin_signer() {
    let t = setup();
    let env = &t.env;
    create(&t, "v1", true);
    set_time(env, END);
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
    assert_eq!(t.client.get(&s(env, "v2")).total, TOTAL);
    let v1 = t.client.get(&s(env, "v1"));
    assert_eq!((v1.released, v1.revoked_at), (100, Some(END)));
}

// ----------------------------------------------------------------------- ttl

#[test]
fn ttl_is_extended() {
    let t = setup();
    let env = &t.env;
    let sid = create(&t, "v1", false);
    set_time(env, END);
    t.client.record_release(&sid, &1, &hash(env, 1));
    let key = DataKey::Schedule(sid.clone());
    let pay = DataKey::Payment(hash(env, 1));
    env.as_contract(&t.id, || {
        assert_eq!(env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            env.storage().persistent().get_ttl(&key),
            PERSISTENT_BUMP_AMOUNT
        );
        assert_eq!(
            env.storage().persistent().get_ttl(&pay),
            PERSISTENT_BUMP_AMOUNT
        );
    });
    let seq = env.ledger().sequence() + PERSISTENT_BUMP_AMOUNT - 3;
    env.ledger().with_mut(|l| l.sequence_number = seq);
    t.client.vested(&sid);
    env.as_contract(&t.id, || {
        assert_eq!(env.storage().instance().get_ttl(), INSTANCE_BUMP_AMOUNT);
        assert_eq!(
            env.storage().persistent().get_ttl(&key),
            PERSISTENT_BUMP_AMOUNT
        );
    });
}
