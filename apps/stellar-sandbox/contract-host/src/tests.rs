//! In-process tests of [`ContractHost`] (the HTTP front is tested end to
//! end in `tests/http.rs`).

use super::*;
use soroban_sdk::xdr::{Int128Parts, PublicKey, ScString, Uint256};

fn account(seed: u8) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256([seed; 32])))
}

fn addr(seed: u8) -> ScVal {
    ScVal::Address(ScAddress::Account(account(seed)))
}

fn string(s: &str) -> ScVal {
    ScVal::String(ScString(s.try_into().unwrap()))
}

fn i128_val(v: i128) -> ScVal {
    ScVal::I128(Int128Parts {
        hi: (v >> 64) as i64,
        lo: v as u64,
    })
}

fn call(contract: &ScAddress, function: &str, args: &[ScVal], source: u8) -> Invocation {
    Invocation {
        contract: contract.clone(),
        function: function.into(),
        args: args.to_vec(),
        source: Some(account(source)),
        ledger_timestamp: Some(1_750_000_000),
        ledger_sequence: Some(1_000),
    }
}

fn snapshot_bytes(host: &ContractHost) -> Vec<u8> {
    let mut out = Vec::new();
    host.snapshot().write(&mut out).unwrap();
    out
}

fn request(host: &ContractHost, body: Value) -> Result<Invocation, String> {
    Invocation::from_json(&body, host).map_err(|e| e.0)
}

/// The names of the functions of the `#[contractimpl]` block of a contract's
/// `lib.rs`.
fn declared_functions(source: &str) -> Vec<String> {
    let (_, imp) = source
        .split_once("#[contractimpl]")
        .expect("a #[contractimpl] block");
    imp.lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub fn "))
        .map(|l| l.split(['(', '<']).next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn spec_lists_every_contract_function() {
    for (name, source) in [
        ("campaign", include_str!("../../../../contracts/campaign/src/lib.rs")),
        ("redemption", include_str!("../../../../contracts/redemption/src/lib.rs")),
        ("vesting", include_str!("../../../../contracts/vesting/src/lib.rs")),
    ] {
        let mut declared = declared_functions(source);
        let mut listed: Vec<String> = contract_functions(name)
            .iter()
            .map(|f| f.name.to_utf8_string_lossy())
            .collect();
        declared.sort();
        listed.sort();
        assert!(!declared.is_empty());
        assert_eq!(listed, declared, "functions of {name}");
    }
}

#[test]
fn contract_ids_are_fixed_and_distinct() {
    let a = ContractHost::open(HostConfig::default()).unwrap();
    let b = ContractHost::open(HostConfig::default()).unwrap();
    assert_eq!(a.contracts_json(), b.contracts_json());
    // sha256("nova-rewards:<name>"), pinned: clients may have stored them.
    assert_eq!(
        a.contracts_json(),
        json!({
            "campaign": "CBINQWUJC6J3VHLG2CCD5E5TYZWNBLGC52HLUE6JBHE5TKHBGLTDXRI6",
            "redemption": "CCGZHSMNIKSGUNTXIGV7E3KAZOAFSAO34IV2PQ6ICWRPH44WYMY2PU4Q",
            "vesting": "CCTE24ZQFARAB5T4RTSK3JQQGXVQXLHYD3PGRSHTLUPGDV7YLOW4K4BW",
        })
    );
    let ids: Vec<String> = a
        .contracts()
        .iter()
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(a.contract("campaign").unwrap().address.to_string(), ids[0]);
    assert_eq!(a.contract(&ids[2]).unwrap().name, "vesting");
}

#[test]
fn contract_ids_of_a_deployer_are_the_network_ones() {
    // Computed with @stellar/stellar-sdk (the sandbox's
    // `deterministicContractId`) for the deployer with key [7; 32].
    let config = HostConfig {
        deployer: Some(account(7)),
        ..HostConfig::default()
    };
    assert_eq!(
        ScAddress::Account(account(7)).to_string(),
        "GADQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4DQOBYHA4DQOZPI"
    );
    let ids: Vec<(&str, String)> = config
        .contract_ids()
        .into_iter()
        .map(|(n, a)| (n, a.to_string()))
        .collect();
    assert_eq!(
        ids,
        [
            (
                "campaign",
                "CDEBRJUHLAQ2CW64QZQGF7QAMEOZ4HHBBLWVFWVZBUBC5FTSQLP6CVGH".to_string()
            ),
            (
                "redemption",
                "CDE5646745POXWFLBATSHXEMZFNJNGIMXVKSO3YIGFCI42OK4OCE5LU2".to_string()
            ),
            (
                "vesting",
                "CAIKRIKNA3HGBIJNDMWLOWMHQNUPRCR5FNMIPPDF36RF26PFYWUQXG4M".to_string()
            ),
        ]
    );
    let host = ContractHost::open(config).unwrap();
    assert_eq!(
        host.contract("redemption").unwrap().address.to_string(),
        "CDE5646745POXWFLBATSHXEMZFNJNGIMXVKSO3YIGFCI42OK4OCE5LU2"
    );
    // Another network, other ids.
    let other = HostConfig {
        deployer: Some(account(7)),
        network_passphrase: Some("Test SDF Network ; September 2015".into()),
        ..HostConfig::default()
    };
    assert_ne!(other.contract_ids()[0].1, host.contracts()[0].address);
}

#[test]
fn a_state_file_is_tied_to_its_contract_ids() {
    let dir = std::env::temp_dir().join(format!("nova-contract-host-unit-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let state = dir.join("state.json");
    let config = HostConfig {
        state_path: Some(state.clone()),
        ..HostConfig::default()
    };
    let mut host = ContractHost::open(config.clone()).unwrap();
    let campaign = host.contract("campaign").unwrap().address.clone();
    assert!(host
        .invoke(&call(&campaign, "initialize", &[addr(1)], 1))
        .unwrap()
        .is_ok());
    drop(host);
    // Reopened as it was: the data is there.
    let mut host = ContractHost::open(config.clone()).unwrap();
    assert_eq!(
        host.invoke(&call(&campaign, "admin", &[], 2)).unwrap(),
        Outcome::Ok {
            result: addr(1),
            events: vec![]
        }
    );
    drop(host);
    // Reopened with other ids or another network: refused.
    let moved = HostConfig {
        deployer: Some(account(7)),
        ..config.clone()
    };
    let message = ContractHost::open(moved).err().unwrap();
    assert!(message.contains("another --deployer"), "{message}");
    let other_network = HostConfig {
        network_passphrase: Some("Test SDF Network ; September 2015".into()),
        ..config
    };
    let message = ContractHost::open(other_network).err().unwrap();
    assert!(message.contains("another network passphrase"), "{message}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn request_checks() {
    let host = ContractHost::open(HostConfig::default()).unwrap();
    let campaign = host.contract("campaign").unwrap().address.to_string();
    let g = ScAddress::Account(account(1)).to_string();
    let b64 = |v: &ScVal| v.to_xdr_base64(Limits::none()).unwrap();

    let ok = request(
        &host,
        json!({"contract": campaign, "function": "get", "args": [b64(&string("c1"))], "source": g}),
    )
    .unwrap();
    assert_eq!(ok.function, "get");
    assert_eq!(ok.source, Some(account(1)));
    assert_eq!((ok.ledger_timestamp, ok.ledger_sequence), (None, None));
    // By name too.
    assert!(request(&host, json!({"contract": "vesting", "function": "admin"})).is_ok());

    let cases = [
        (json!([1]), "JSON object"),
        (json!({"function": "get"}), "`contract`"),
        (
            json!({"contract": "nope", "function": "get"}),
            "unknown contract `nope`",
        ),
        (
            json!({"contract": "CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD2KM", "function": "get"}),
            "unknown contract",
        ),
        (
            json!({"contract": campaign, "function": "steal"}),
            "unknown function `steal`",
        ),
        (
            json!({"contract": campaign, "function": "get"}),
            "takes 1 argument(s), got 0",
        ),
        (
            json!({"contract": campaign, "function": "get", "args": ["!!"]}),
            "`args[0]` is not a base64 XDR ScVal",
        ),
        (
            json!({"contract": campaign, "function": "get", "args": ["AAAA"]}),
            "`args[0]` is not a base64 XDR ScVal",
        ),
        (
            json!({"contract": campaign, "function": "get", "args": [b64(&ScVal::U32(1))]}),
            "`args[0]` (id) of campaign.get must be String, got U32",
        ),
        (
            json!({"contract": campaign, "function": "get", "args": "x"}),
            "`args` must be an array",
        ),
        (
            json!({"contract": campaign, "function": "admin", "source": campaign}),
            "`source` must be a G... account strkey",
        ),
        (
            json!({"contract": campaign, "function": "admin", "ledgerSequence": -1}),
            "`ledgerSequence`",
        ),
        (
            json!({"contract": campaign, "function": "admin", "ledgerTimestamp": "now"}),
            "`ledgerTimestamp`",
        ),
    ];
    for (body, expected) in cases {
        let message = request(&host, body.clone()).unwrap_err();
        assert!(message.contains(expected), "{body}: {message}");
    }
}

#[test]
fn failures_change_nothing_and_auth_is_the_source_only() {
    let mut host = ContractHost::open(HostConfig::default()).unwrap();
    let admin = 1;
    let other = 2;
    let campaign = host.contract("campaign").unwrap().address.clone();
    let init = call(&campaign, "initialize", &[addr(admin)], admin);
    // Simulated: succeeds, but changes nothing ...
    let Outcome::Ok { events, .. } = host.simulate(&init) else {
        panic!("simulated initialize failed")
    };
    assert_eq!(events.len(), 1);
    assert_eq!(host.ledger(), (0, 0));
    // ... so that it can be done for real; a second time fails.
    assert!(host.invoke(&init).unwrap().is_ok());
    assert_eq!(host.simulate(&init), Outcome::ContractError(1));
    assert_eq!(host.ledger(), (1_000, 1_750_000_000));

    let register = |source: u8, budget: i128| {
        let mut inv = call(
            &campaign,
            "register",
            &[
                string("c1"),
                addr(3),
                i128_val(budget),
                ScVal::U64(1_750_000_000),
                ScVal::U64(1_760_000_000),
            ],
            source,
        );
        inv.ledger_sequence = Some(2_000);
        inv.ledger_timestamp = Some(1_750_000_500);
        inv
    };
    let before = snapshot_bytes(&host);
    let ledger_before = host.ledger();

    // Another source: auth error naming the admin.
    let Outcome::AuthError(message) = host.invoke(&register(other, 5)).unwrap() else {
        panic!("not an auth error")
    };
    let admin_g = ScAddress::Account(account(admin)).to_string();
    assert!(message.contains("Error(Auth, InvalidAction)"), "{message}");
    assert!(message.contains(&admin_g), "{message}");
    // No source at all.
    let mut unsigned = register(admin, 5);
    unsigned.source = None;
    assert!(matches!(
        host.invoke(&unsigned).unwrap(),
        Outcome::AuthError(_)
    ));
    // A contract error.
    assert_eq!(
        host.invoke(&register(admin, 0)).unwrap(),
        Outcome::ContractError(5)
    );
    // A host error: wrong composite argument (a vector where an Address is).
    let mut bad = register(admin, 5);
    bad.args[1] = ScVal::Vec(None);
    let Outcome::HostError(message) = host.invoke(&bad).unwrap() else {
        panic!("not a host error")
    };
    assert!(message.starts_with("failed to convert ScVal"), "{message}");

    assert_eq!(host.ledger(), ledger_before);
    assert_eq!(snapshot_bytes(&host), before);

    // The admin itself succeeds, once.
    let Outcome::Ok { result, events } = host.invoke(&register(admin, 5)).unwrap() else {
        panic!("register failed")
    };
    assert_eq!(result, ScVal::Void);
    assert_eq!(events.len(), 1);
    assert_eq!(host.ledger(), (2_000, 1_750_000_500));
    assert_eq!(
        host.invoke(&register(admin, 5)).unwrap(),
        Outcome::ContractError(3)
    );
}
