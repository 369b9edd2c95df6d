//! End-to-end test of the `nova-contract-host` binary over loopback HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use soroban_sdk::xdr::{
    AccountId, Int128Parts, Limits, PublicKey, ReadXdr, ScAddress, ScMap, ScString, ScSymbol,
    ScVal, Uint256, WriteXdr,
};

/// Campaign contract's `CampaignExists` error code.
const CAMPAIGN_EXISTS: u32 = nova_campaign::Error::CampaignExists as u32;
const CAMPAIGN_NOT_FOUND: u32 = nova_campaign::Error::CampaignNotFound as u32;

/// The host process; killed when dropped.
struct HostProcess {
    child: Child,
    port: u16,
    contracts: Value,
}

impl HostProcess {
    fn start(state: &Path) -> HostProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nova-contract-host"))
            .args(["--port", "0", "--state"])
            .arg(state)
            .env_remove("CONTRACT_HOST_PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nova-contract-host");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        let port = first
            .strip_prefix("listening on 127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        assert_ne!(port, 0);
        let second = lines.next().expect("a second line").unwrap();
        let contracts: Value =
            serde_json::from_str(second.strip_prefix("contracts ").unwrap()).unwrap();
        HostProcess {
            child,
            port,
            contracts,
        }
    }

    /// One HTTP/1.1 request; returns (status, JSON body).
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
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
        (status, serde_json::from_str(body).expect("a JSON body"))
    }

    fn call(&self, endpoint: &str, body: Value) -> Value {
        let (status, answer) = self.request("POST", endpoint, Some(&body));
        assert_eq!(status, 200, "{answer}");
        answer
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
        "ledgerTimestamp": 1_750_000_000u64,
        "ledgerSequence": 500_000u32,
    })
}

fn field<'a>(map: &'a ScMap, name: &str) -> &'a ScVal {
    &map.iter().find(|e| e.key == symbol(name)).unwrap().val
}

#[test]
fn register_read_restart_and_duplicate() {
    let dir = std::env::temp_dir().join(format!("nova-contract-host-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.join("state.json");

    let admin = account(1);
    let intruder = account(2);
    let merchant = account(3);

    let host = HostProcess::start(&state);
    assert_eq!(host.request("GET", "/health", None), (200, json!({"ok": true})));
    let (status, contracts) = host.request("GET", "/contracts", None);
    assert_eq!(status, 200);
    assert_eq!(contracts, host.contracts);
    for name in ["campaign", "redemption", "vesting"] {
        assert!(contracts[name].as_str().unwrap().starts_with('C'), "{contracts}");
    }
    let campaign = contracts["campaign"].as_str().unwrap().to_string();

    // The platform account initializes the contract, as its admin.
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "initialize", &[ScVal::Address(admin.clone())], &admin),
    );
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(from_b64(&answer["result"]), ScVal::Void);

    let register_args = [
        string("c1"),
        ScVal::Address(merchant.clone()),
        i128_val(10_000_000_000),
        ScVal::U64(1_750_000_000),
        ScVal::U64(1_760_000_000),
    ];

    // Another account can not register (it is not the admin).
    let answer = host.call("/invoke", invoke_body(&campaign, "register", &register_args, &intruder));
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["error"]["kind"], "host", "{answer}");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("Auth"),
        "{answer}"
    );
    // Nor can a call without any source account.
    let mut unsigned = invoke_body(&campaign, "register", &register_args, &admin);
    unsigned.as_object_mut().unwrap().remove("source");
    let answer = host.call("/invoke", unsigned);
    assert_eq!(answer["error"]["kind"], "host", "{answer}");

    // A failed invocation leaves the persisted state as it was.
    let before = std::fs::read(&state).unwrap();
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "register", &[string("bad"), ScVal::Address(merchant.clone()), i128_val(0), ScVal::U64(1), ScVal::U64(2)], &admin),
    );
    assert_eq!(answer["error"], json!({"kind": "contract", "code": 5}));
    assert_eq!(std::fs::read(&state).unwrap(), before);

    // The admin registers campaign c1, at a ledger far beyond the default
    // entry TTL (the contracts are kept alive).
    let answer = host.call("/invoke", invoke_body(&campaign, "register", &register_args, &admin));
    assert_eq!(answer["ok"], true, "{answer}");
    let events = answer["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{answer}");
    assert_eq!(events[0]["contractId"], campaign.as_str());
    let topics: Vec<ScVal> = events[0]["topics"].as_array().unwrap().iter().map(from_b64).collect();
    assert_eq!(topics, vec![symbol("campaign_registered"), string("c1")]);
    let ScVal::Map(Some(data)) = from_b64(&events[0]["data"]) else {
        panic!("event data is not a map: {answer}")
    };
    assert_eq!(field(&data, "budget"), &i128_val(10_000_000_000));
    assert_ne!(std::fs::read(&state).unwrap(), before);

    // Read it back.
    let get = |host: &HostProcess, endpoint: &str, id: &str| {
        host.call(endpoint, invoke_body(&campaign, "get", &[string(id)], &admin))
    };
    let answer = get(&host, "/invoke", "c1");
    assert_eq!(answer["ok"], true, "{answer}");
    let stored = from_b64(&answer["result"]);
    let ScVal::Map(Some(ref fields)) = stored else {
        panic!("campaign is not a map: {answer}")
    };
    assert_eq!(field(fields, "id"), &string("c1"));
    assert_eq!(field(fields, "merchant"), &ScVal::Address(merchant.clone()));
    assert_eq!(field(fields, "budget"), &i128_val(10_000_000_000));
    assert_eq!(field(fields, "starts_at"), &ScVal::U64(1_750_000_000));
    assert_eq!(field(fields, "ends_at"), &ScVal::U64(1_760_000_000));
    assert_eq!(
        field(fields, "status"),
        &ScVal::Vec(Some(vec![symbol("Active")].try_into().unwrap()))
    );

    // /simulate answers like /invoke but changes nothing.
    let mut c2_args = register_args.clone();
    c2_args[0] = string("c2");
    let answer = host.call("/simulate", invoke_body(&campaign, "register", &c2_args, &admin));
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["events"].as_array().unwrap().len(), 1);
    let answer = get(&host, "/simulate", "c2");
    assert_eq!(answer["error"], json!({"kind": "contract", "code": CAMPAIGN_NOT_FOUND}));
    let answer = get(&host, "/invoke", "c2");
    assert_eq!(answer["error"], json!({"kind": "contract", "code": CAMPAIGN_NOT_FOUND}));
    let answer = host.call("/simulate", invoke_body(&campaign, "register", &register_args, &admin));
    assert_eq!(answer["error"], json!({"kind": "contract", "code": CAMPAIGN_EXISTS}));

    // Bad requests.
    let (status, answer) = host.request("POST", "/invoke", Some(&json!({"function": "get"})));
    assert_eq!((status, &answer["error"]["kind"]), (400, &json!("request")));
    let (status, _) = host.request("GET", "/nowhere", None);
    assert_eq!(status, 404);
    let (status, _) = host.request("GET", "/invoke", None);
    assert_eq!(status, 405);

    // Restart from the state file: same ids, same data.
    drop(host);
    let host = HostProcess::start(&state);
    assert_eq!(host.contracts, contracts);
    let answer = get(&host, "/invoke", "c1");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(from_b64(&answer["result"]), stored);

    // A duplicate registration is refused with CampaignExists.
    let answer = host.call("/invoke", invoke_body(&campaign, "register", &register_args, &admin));
    assert_eq!(
        answer,
        json!({"ok": false, "error": {"kind": "contract", "code": CAMPAIGN_EXISTS}})
    );
    // The admin survived the restart too.
    let answer = host.call(
        "/invoke",
        invoke_body(&campaign, "initialize", &[ScVal::Address(intruder.clone())], &intruder),
    );
    assert_eq!(answer["error"], json!({"kind": "contract", "code": 1}));

    drop(host);
    let _ = std::fs::remove_dir_all(&dir);
}
