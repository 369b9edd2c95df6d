//! End-to-end tests of the `nova-contract-host` binary over loopback HTTP.
//!
//! Every child process is owned by a [`HostProcess`] guard that kills it
//! when dropped, so no host outlives its test, even when an assertion fails.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use soroban_sdk::xdr::{
    AccountId, Int128Parts, Limits, PublicKey, ReadXdr, ScAddress, ScMap, ScString, ScSymbol,
    ScVal, Uint256, WriteXdr,
};

const CAMPAIGN_ALREADY_INITIALIZED: u32 = nova_campaign::Error::AlreadyInitialized as u32;
const CAMPAIGN_EXISTS: u32 = nova_campaign::Error::CampaignExists as u32;
const CAMPAIGN_NOT_FOUND: u32 = nova_campaign::Error::CampaignNotFound as u32;
const CAMPAIGN_INVALID_BUDGET: u32 = nova_campaign::Error::InvalidBudget as u32;
const REDEMPTION_NOT_OPEN: u32 = nova_redemption::Error::NotOpen as u32;

const TS: u64 = 1_750_000_000;
/// Far beyond the default TTL of new entries: the contracts are kept alive.
const SEQ: u32 = 500_000;

/// A directory of its own for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("nova-contract-host-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary, with none of its `CONTRACT_HOST_*` variables inherited.
fn host_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nova-contract-host"));
    for var in [
        "CONTRACT_HOST_PORT",
        "CONTRACT_HOST_STATE",
        "CONTRACT_HOST_DEPLOYER",
        "CONTRACT_HOST_NETWORK_PASSPHRASE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The host process; killed (and reaped) when dropped.
struct HostProcess {
    child: Child,
    port: u16,
    contracts: Value,
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HostProcess {
    /// Starts the binary on port 0 with the state file `state`.
    fn start(state: &Path) -> HostProcess {
        let mut cmd = host_command();
        cmd.args(["--port", "0", "--state"]).arg(state);
        HostProcess::spawn(cmd, state)
    }

    /// Spawns `cmd` (stderr to `<state>.stderr`) and reads its first two
    /// stdout lines: `listening on 127.0.0.1:<port>`, `contracts {...}`.
    fn spawn(mut cmd: Command, state: &Path) -> HostProcess {
        let stderr_path = state.with_extension("stderr");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr_path).unwrap())
            .spawn()
            .expect("start nova-contract-host");
        // From here on the guard owns the child.
        let mut host = HostProcess {
            child,
            port: 0,
            contracts: Value::Null,
        };
        let stdout = host.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for _ in 0..2 {
                let line = lines.next().and_then(Result::ok).unwrap_or_default();
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let next_line = || {
            rx.recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                    panic!("the host printed no line in time; stderr:\n{stderr}")
                })
        };
        let first = next_line();
        host.port = first
            .strip_prefix("listening on 127.0.0.1:")
            .unwrap_or_else(|| {
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!("unexpected first line {first:?}; stderr:\n{stderr}")
            })
            .parse()
            .unwrap();
        assert_ne!(host.port, 0);
        let second = next_line();
        host.contracts = serde_json::from_str(second.strip_prefix("contracts ").unwrap()).unwrap();
        host
    }

    /// One HTTP/1.1 request with a raw body; returns (status, JSON body).
    fn request_raw(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
        (status, json)
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.request_raw(method, path, &body)
    }

    /// A POST that must be answered 200.
    fn call(&self, endpoint: &str, body: Value) -> Value {
        let (status, answer) = self.request("POST", endpoint, Some(&body));
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn contract(&self, name: &str) -> String {
        self.contracts[name].as_str().unwrap().to_string()
    }
}

fn b64(v: &ScVal) -> String {
    v.to_xdr_base64(Limits::none()).unwrap()
}

fn from_b64(s: &Value) -> ScVal {
    ScVal::from_xdr_base64(s.as_str().unwrap(), Limits::none()).unwrap()
}

fn account(seed: u8) -> ScAddress {
    ScAddress::Account(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(
        [seed; 32],
    ))))
}

fn string(s: &str) -> ScVal {
    ScVal::String(ScString(s.try_into().unwrap()))
}

fn symbol(s: &str) -> ScVal {
    ScVal::Symbol(ScSymbol(s.try_into().unwrap()))
}

fn i128_val(v: i128) -> ScVal {
    ScVal::I128(Int128Parts {
        hi: (v >> 64) as i64,
        lo: v as u64,
    })
}

fn invoke_body(contract: &str, function: &str, args: &[ScVal], source: &ScAddress) -> Value {
    json!({
        "contract": contract,
        "function": function,
        "args": args.iter().map(b64).collect::<Vec<_>>(),
        "source": source.to_string(),
        "ledgerTimestamp": TS,
        "ledgerSequence": SEQ,
    })
}

fn field<'a>(map: &'a ScMap, name: &str) -> &'a ScVal {
    &map.iter()
        .find(|e| e.key == symbol(name))
        .unwrap_or_else(|| panic!("no field {name}"))
        .val
}

/// The events of a successful answer, decoded: (contractId, topics, data).
fn events(answer: &Value) -> Vec<(String, Vec<ScVal>, ScVal)> {
    assert_eq!(answer["ok"], true, "{answer}");
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["contractId"].as_str().unwrap().to_string(),
                e["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(from_b64)
                    .collect(),
                from_b64(&e["data"]),
            )
        })
        .collect()
}

fn contract_error(code: u32) -> Value {
    json!({"ok": false, "error": {"kind": "contract", "code": code}})
}

#[test]
fn campaign_register_read_simulate_restart() {
    let dir = TempDir::new("campaign");
    let state = dir.join("state.json");

    let admin = account(1);
    let intruder = account(2);
    let merchant = account(3);

    let host = HostProcess::start(&state);
    assert_eq!(
        host.request("GET", "/health", None),
        (200, json!({"ok": true}))
    );
    let (status, contracts) = host.request("GET", "/contracts", None);
    assert_eq!(status, 200);
    assert_eq!(contracts, host.contracts);
    assert_eq!(contracts.as_object().unwrap().len(), 3);
    for name in ["campaign", "redemption", "vesting"] {
        let id = contracts[name].as_str().unwrap();
        assert!(id.starts_with('C') && id.len() == 56, "{contracts}");
    }
    let campaign = host.contract("campaign");

    // The platform account initializes the contract, as its admin.
    let answer = host.call(
        "/invoke",
        invoke_body(
            &campaign,
            "initialize",
            &[ScVal::Address(admin.clone())],
            &admin,
        ),
    );
    assert_eq!(from_b64(&answer["result"]), ScVal::Void, "{answer}");
    let evs = events(&answer);
    assert_eq!(evs.len(), 1, "{answer}");
    assert_eq!(evs[0].0, campaign);
    assert_eq!(evs[0].1, vec![symbol("initialized")]);
    let ScVal::Map(Some(data)) = &evs[0].2 else {
        panic!("event data is not a map: {answer}")
    };
    assert_eq!(field(data, "admin"), &ScVal::Address(admin.clone()));

    let register_args = [
        string("c1"),
        ScVal::Address(merchant.clone()),
        i128_val(10_000_000_000),
        ScVal::U64(TS),
        ScVal::U64(TS + 10_000_000),
    ];

    // Another account can not register (it is not the admin): auth error.
    let before = std::fs::read(&state).unwrap();
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "register", &register_args, &intruder),
    );
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"]["kind"], "auth", "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains(&admin.to_string()), "{answer}");
    // Nor can a call without any source account.
    let mut unsigned = invoke_body(&campaign, "register", &register_args, &admin);
    unsigned.as_object_mut().unwrap().remove("source");
    let answer = host.call("/invoke", unsigned);
    assert_eq!(answer["error"]["kind"], "auth", "{answer}");
    // A contract error.
    let mut bad_budget = register_args.clone();
    bad_budget[2] = i128_val(0);
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "register", &bad_budget, &admin),
    );
    assert_eq!(answer, contract_error(CAMPAIGN_INVALID_BUDGET));
    // Failed invocations leave the persisted state as it was.
    assert_eq!(std::fs::read(&state).unwrap(), before);

    // The admin registers campaign c1.
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "register", &register_args, &admin),
    );
    assert_eq!(from_b64(&answer["result"]), ScVal::Void, "{answer}");
    let evs = events(&answer);
    assert_eq!(evs.len(), 1, "{answer}");
    assert_eq!(evs[0].0, campaign);
    assert_eq!(evs[0].1, vec![symbol("campaign_registered"), string("c1")]);
    let ScVal::Map(Some(data)) = &evs[0].2 else {
        panic!("event data is not a map: {answer}")
    };
    assert_eq!(field(data, "merchant"), &ScVal::Address(merchant.clone()));
    assert_eq!(field(data, "budget"), &i128_val(10_000_000_000));
    assert_eq!(field(data, "starts_at"), &ScVal::U64(TS));
    assert_eq!(field(data, "ends_at"), &ScVal::U64(TS + 10_000_000));
    assert_ne!(std::fs::read(&state).unwrap(), before);

    // Read it back (anyone may).
    let get = |host: &HostProcess, endpoint: &str, id: &str| {
        host.call(
            endpoint,
            invoke_body(&campaign, "get", &[string(id)], &intruder),
        )
    };
    let answer = get(&host, "/invoke", "c1");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["events"], json!([]));
    let stored = from_b64(&answer["result"]);
    let ScVal::Map(Some(ref fields)) = stored else {
        panic!("campaign is not a map: {answer}")
    };
    assert_eq!(field(fields, "id"), &string("c1"));
    assert_eq!(field(fields, "merchant"), &ScVal::Address(merchant.clone()));
    assert_eq!(field(fields, "budget"), &i128_val(10_000_000_000));
    assert_eq!(field(fields, "starts_at"), &ScVal::U64(TS));
    assert_eq!(field(fields, "ends_at"), &ScVal::U64(TS + 10_000_000));
    assert_eq!(
        field(fields, "status"),
        &ScVal::Vec(Some(vec![symbol("Active")].try_into().unwrap()))
    );

    // /simulate answers like /invoke but changes nothing.
    let persisted = std::fs::read(&state).unwrap();
    let mut c2_args = register_args.clone();
    c2_args[0] = string("c2");
    let answer = host.call(
        "/simulate",
        invoke_body(&campaign, "register", &c2_args, &admin),
    );
    let evs = events(&answer);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].1, vec![symbol("campaign_registered"), string("c2")]);
    let answer = host.call(
        "/simulate",
        invoke_body(&campaign, "register", &c2_args, &intruder),
    );
    assert_eq!(answer["error"]["kind"], "auth", "{answer}");
    assert_eq!(
        get(&host, "/simulate", "c2"),
        contract_error(CAMPAIGN_NOT_FOUND)
    );
    assert_eq!(
        get(&host, "/invoke", "c2"),
        contract_error(CAMPAIGN_NOT_FOUND)
    );
    assert_eq!(std::fs::read(&state).unwrap(), persisted);
    let answer = host.call(
        "/simulate",
        invoke_body(&campaign, "register", &register_args, &admin),
    );
    assert_eq!(answer, contract_error(CAMPAIGN_EXISTS));

    // Restart from the state file: same ids, same data.
    drop(host);
    let host = HostProcess::start(&state);
    assert_eq!(host.contracts, contracts);
    let answer = get(&host, "/invoke", "c1");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(from_b64(&answer["result"]), stored);

    // A duplicate registration is refused with CampaignExists.
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "register", &register_args, &admin),
    );
    assert_eq!(answer, contract_error(CAMPAIGN_EXISTS));
    // The admin survived the restart too: only it may pause c1.
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "pause", &[string("c1")], &intruder),
    );
    assert_eq!(answer["error"]["kind"], "auth", "{answer}");
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "pause", &[string("c1")], &admin),
    );
    let evs = events(&answer);
    assert_eq!(evs[0].1, vec![symbol("campaign_paused"), string("c1")]);
    let answer = host.call(
        "/invoke",
        invoke_body(
            &campaign,
            "initialize",
            &[ScVal::Address(intruder.clone())],
            &intruder,
        ),
    );
    assert_eq!(answer, contract_error(CAMPAIGN_ALREADY_INITIALIZED));
}

#[test]
fn malformed_requests_are_refused_with_400() {
    let dir = TempDir::new("malformed");
    let state = dir.join("state.json");
    let host = HostProcess::start(&state);
    let campaign = host.contract("campaign");
    let admin = account(1).to_string();
    let before = std::fs::read(&state).unwrap();

    let get_c1 = |args: Value| json!({"contract": campaign, "function": "get", "args": args, "source": admin});
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "not JSON"),
        ("[]".into(), "JSON object"),
        (json!({"function": "get"}).to_string(), "`contract`"),
        (
            json!({"contract": "CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD2KM", "function": "get", "args": [b64(&string("c1"))]}).to_string(),
            "unknown contract",
        ),
        (json!({"contract": "G123", "function": "get"}).to_string(), "unknown contract"),
        (json!({"contract": campaign}).to_string(), "`function`"),
        (
            json!({"contract": campaign, "function": "withdraw_all", "args": []}).to_string(),
            "unknown function `withdraw_all`",
        ),
        (get_c1(json!(["%%%not base64"])).to_string(), "`args[0]` is not a base64 XDR ScVal"),
        // Valid base64, not an ScVal.
        (get_c1(json!(["/////w=="])).to_string(), "`args[0]` is not a base64 XDR ScVal"),
        (get_c1(json!([])).to_string(), "takes 1 argument(s), got 0"),
        (
            get_c1(json!([b64(&ScVal::U64(1))])).to_string(),
            "`args[0]` (id) of campaign.get must be String, got U64",
        ),
        (
            json!({"contract": campaign, "function": "get", "args": [b64(&string("c1"))], "source": "nobody"}).to_string(),
            "`source`",
        ),
        (
            json!({"contract": campaign, "function": "admin", "ledgerSequence": 1u64 << 40}).to_string(),
            "`ledgerSequence`",
        ),
    ];
    for endpoint in ["/invoke", "/simulate"] {
        for (body, expected) in &cases {
            let (status, answer) = host.request_raw("POST", endpoint, body);
            assert_eq!(status, 400, "{endpoint} {body}: {answer}");
            assert_eq!(answer["ok"], false, "{answer}");
            assert_eq!(answer["error"]["kind"], "request", "{answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(expected), "{body}: {message}");
        }
    }
    let (status, answer) = host.request("GET", "/nowhere", None);
    assert_eq!((status, &answer["error"]["kind"]), (404, &json!("request")));
    let (status, answer) = host.request("GET", "/invoke", None);
    assert_eq!((status, &answer["error"]["kind"]), (405, &json!("request")));

    // Nothing was written, and the host still answers.
    assert_eq!(std::fs::read(&state).unwrap(), before);
    assert_eq!(
        host.request("GET", "/health", None),
        (200, json!({"ok": true}))
    );
}

#[test]
fn redemption_with_options_from_env_and_deployer() {
    let dir = TempDir::new("redemption");
    let state = dir.join("state.json");
    // A port that was free a moment ago, passed through the environment.
    let port = TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = host_command();
    cmd.env("CONTRACT_HOST_PORT", port.to_string())
        .env("CONTRACT_HOST_STATE", &state)
        .args(["--deployer", &account(7).to_string()]);
    let host = HostProcess::spawn(cmd, &state);
    assert_eq!(host.port, port);
    assert!(state.exists());
    // The ids where the network (and the sandbox) deploys the contracts of
    // that deployer (see the unit tests).
    assert_eq!(
        host.contract("redemption"),
        "CDE5646745POXWFLBATSHXEMZFNJNGIMXVKSO3YIGFCI42OK4OCE5LU2"
    );

    let admin = account(1);
    let holder = account(4);
    let merchant = account(5);
    let redemption = host.contract("redemption");
    // The contracts are independent: initializing one leaves the others.
    host.call(
        "/invoke",
        invoke_body(
            &redemption,
            "initialize",
            &[ScVal::Address(admin.clone())],
            &admin,
        ),
    );
    let answer = host.call(
        "/invoke",
        invoke_body(&host.contract("vesting"), "admin", &[], &admin),
    );
    assert_eq!(
        answer,
        contract_error(nova_vesting::Error::NotInitialized as u32)
    );

    let open = [
        string("r1"),
        ScVal::Address(holder.clone()),
        ScVal::Address(merchant.clone()),
        i128_val(25_000_000),
    ];
    let answer = host.call("/invoke", invoke_body(&redemption, "open", &open, &admin));
    let evs = events(&answer);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].0, redemption);
    assert_eq!(evs[0].1, vec![symbol("redemption_opened"), string("r1")]);
    let ScVal::Map(Some(data)) = &evs[0].2 else {
        panic!("event data is not a map: {answer}")
    };
    // The ledger time of the request is the contract's clock.
    assert_eq!(field(data, "at"), &ScVal::U64(TS));

    let mut confirm = invoke_body(&redemption, "confirm", &[string("r1")], &admin);
    confirm["ledgerTimestamp"] = json!(TS + 60);
    confirm["ledgerSequence"] = json!(SEQ + 12);
    let evs = events(&host.call("/invoke", confirm.clone()));
    assert_eq!(evs[0].1, vec![symbol("redemption_confirmed"), string("r1")]);
    assert_eq!(
        host.call("/invoke", confirm),
        contract_error(REDEMPTION_NOT_OPEN)
    );

    let answer = host.call(
        "/invoke",
        invoke_body(&redemption, "get", &[string("r1")], &holder),
    );
    let ScVal::Map(Some(fields)) = from_b64(&answer["result"]) else {
        panic!("redemption is not a map: {answer}")
    };
    assert_eq!(
        field(&fields, "status"),
        &ScVal::Vec(Some(vec![symbol("Confirmed")].try_into().unwrap()))
    );
    assert_eq!(field(&fields, "opened_at"), &ScVal::U64(TS));
    assert_eq!(field(&fields, "closed_at"), &ScVal::U64(TS + 60));
}
