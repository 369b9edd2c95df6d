//! Native contract host for the local Stellar sandbox.
//!
//! Keeps ONE Soroban host environment ([`soroban_sdk::Env`] built with the
//! SDK's `testutils`) in which the three Nova Rewards contracts are
//! registered natively at fixed contract ids, and runs invocations against
//! it. See `README.md` of the workspace for the HTTP protocol served by
//! [`server`].
//!
//! * Contract ids are `sha256("nova-rewards:<name>")`, so they are the same
//!   on every machine and across restarts.
//! * Authorization follows a real transaction whose source account is the
//!   request's `source`: that account (and only it) is authorized, through
//!   `SourceAccount` credentials for exactly the invoked function and
//!   arguments. Every other `require_auth` fails.
//! * A failed invocation is rolled back by the host (storage and events) and
//!   the ledger info of the request is undone too.
//! * After every successful invocation the ledger (entries and ledger info)
//!   is written to the state file (temporary file + rename) and reloaded
//!   from it at start.

pub mod server;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map as JsonMap, Value};
use soroban_ledger_snapshot::LedgerSnapshot;
use soroban_sdk::{
    testutils::{EnvTestConfig, Events as _, Ledger as _},
    xdr::{
        AccountId, ContractEvent, ContractEventBody, ContractEventType, ContractId, Hash, HostFunction,
        InvokeContractArgs, Limits, ReadXdr, ScAddress, ScErrorType, ScSymbol, ScVal,
        SorobanAuthorizationEntry, SorobanAuthorizedFunction, SorobanAuthorizedInvocation,
        SorobanCredentials, WriteXdr,
    },
    Address, Bytes, Env, TryFromVal,
};

/// Passphrase of the local ("standalone") network; its sha256 is the
/// network id of a fresh state.
pub const NETWORK_PASSPHRASE: &str = "Standalone Network ; February 2017";

/// The contracts served, by name.
pub const CONTRACT_NAMES: [&str; 3] = ["campaign", "redemption", "vesting"];

/// One parsed `/invoke` or `/simulate` request.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub contract: ScAddress,
    pub function: String,
    pub args: Vec<ScVal>,
    /// The transaction source account, the only authorized address.
    pub source: Option<AccountId>,
    pub ledger_timestamp: Option<u64>,
    pub ledger_sequence: Option<u32>,
}

/// A published contract event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub contract_id: Option<ScAddress>,
    pub topics: Vec<ScVal>,
    pub data: ScVal,
}

/// Result of one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ok { result: ScVal, events: Vec<Event> },
    /// The contract returned (or panicked with) its error `code`.
    ContractError(u32),
    /// Any other failure: auth, missing contract or function, bad arguments,
    /// budget, archived entry... `message` is the host error
    /// (`Error(Type, Code)`), `detail` the host's first diagnostic message
    /// about it, if any.
    HostError { message: String, detail: Option<String> },
}

impl Outcome {
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Ok { result, events } => json!({
                "ok": true,
                "result": b64(result),
                "events": events.iter().map(|e| json!({
                    "contractId": e.contract_id.as_ref().map(|c| c.to_string()),
                    "topics": e.topics.iter().map(b64).collect::<Vec<_>>(),
                    "data": b64(&e.data),
                })).collect::<Vec<_>>(),
            }),
            Outcome::ContractError(code) => {
                json!({"ok": false, "error": {"kind": "contract", "code": code}})
            }
            Outcome::HostError { message, detail } => {
                let mut error = json!({"kind": "host", "message": message});
                if let Some(detail) = detail {
                    error["detail"] = json!(detail);
                }
                json!({"ok": false, "error": error})
            }
        }
    }
}

fn b64(v: &ScVal) -> String {
    v.to_xdr_base64(Limits::none())
        .expect("an ScVal produced by the host always encodes")
}

/// Errors in a request itself (answered with HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError(pub String);

impl Invocation {
    /// Parses the JSON body of `/invoke` and `/simulate`. `contract` may be
    /// a `C...` strkey or one of [`CONTRACT_NAMES`].
    pub fn from_json(body: &Value, host: &ContractHost) -> Result<Self, RequestError> {
        let err = |m: &str| RequestError(m.to_string());
        let obj = body.as_object().ok_or_else(|| err("body must be a JSON object"))?;
        let contract = obj
            .get("contract")
            .and_then(Value::as_str)
            .ok_or_else(|| err("`contract` (string) is required"))?;
        let contract = match host.contract_by_name(contract) {
            Some(address) => address.clone(),
            None => contract
                .parse::<ScAddress>()
                .ok()
                .filter(|a| matches!(a, ScAddress::Contract(_)))
                .ok_or_else(|| err("`contract` must be a C... strkey or a contract name"))?,
        };
        let function = obj
            .get("function")
            .and_then(Value::as_str)
            .ok_or_else(|| err("`function` (string) is required"))?
            .to_string();
        if ScSymbol::try_from(function.as_str()).is_err() || function.is_empty() {
            return Err(err("`function` is not a valid symbol"));
        }
        let args = match obj.get("args") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .and_then(|s| ScVal::from_xdr_base64(s, Limits::none()).ok())
                        .ok_or_else(|| RequestError(format!("`args[{i}]` is not a base64 XDR ScVal")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(err("`args` must be an array")),
        };
        let source = match obj.get("source") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match s.parse::<ScAddress>() {
                Ok(ScAddress::Account(account)) => Some(account),
                _ => return Err(err("`source` must be a G... account strkey")),
            },
            Some(_) => return Err(err("`source` must be a string")),
        };
        let ledger_timestamp = match obj.get("ledgerTimestamp") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| err("`ledgerTimestamp` must be an unsigned integer"))?,
            ),
        };
        let ledger_sequence = match obj.get("ledgerSequence") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| err("`ledgerSequence` must be a u32"))?,
            ),
        };
        Ok(Invocation {
            contract,
            function,
            args,
            source,
            ledger_timestamp,
            ledger_sequence,
        })
    }
}

/// The fixed id of the contract `name`: `sha256("nova-rewards:<name>")`.
pub fn contract_id(env: &Env, name: &str) -> ScAddress {
    let preimage = Bytes::from_slice(env, format!("nova-rewards:{name}").as_bytes());
    ScAddress::Contract(ContractId(Hash(env.crypto().sha256(&preimage).to_array())))
}

/// The host: one environment, the contracts in it, and where it persists.
pub struct ContractHost {
    env: Env,
    contracts: Vec<(&'static str, ScAddress)>,
    state_path: Option<PathBuf>,
}

fn quiet_config() -> EnvTestConfig {
    EnvTestConfig {
        capture_snapshot_at_drop: false,
    }
}

/// Builds an environment (empty, or loaded from `snapshot`) with the three
/// contracts registered at their fixed ids.
fn build_env(snapshot: Option<LedgerSnapshot>) -> (Env, Vec<(&'static str, ScAddress)>) {
    let mut env = match snapshot {
        Some(snapshot) => Env::from_ledger_snapshot(snapshot),
        None => {
            let env = Env::new_with_config(quiet_config());
            let network_id = env
                .crypto()
                .sha256(&Bytes::from_slice(&env, NETWORK_PASSPHRASE.as_bytes()))
                .to_array();
            env.ledger().with_mut(|l| l.network_id = network_id);
            env
        }
    };
    env.set_config(quiet_config());
    let mut contracts = Vec::new();
    for name in CONTRACT_NAMES {
        let sc = contract_id(&env, name);
        let address = Address::try_from_val(&env, &sc).expect("contract address");
        // Re-registering over a loaded instance keeps its storage: only the
        // (native) executable is attached again.
        match name {
            "campaign" => env.register_at(&address, nova_campaign::CampaignContract, ()),
            "redemption" => env.register_at(&address, nova_redemption::RedemptionContract, ()),
            _ => env.register_at(&address, nova_vesting::VestingContract, ()),
        };
        contracts.push((name, sc));
    }
    keep_alive(&env, &contracts);
    (env, contracts)
}

/// Extends the instance and code entries of the served contracts to the
/// maximum TTL, so that the sandbox's ledger sequence moving forward never
/// archives the contracts themselves (their data entries follow the
/// contracts' own TTL rules).
fn keep_alive(env: &Env, contracts: &[(&'static str, ScAddress)]) {
    let max = env.ledger().get().max_entry_ttl.saturating_sub(1);
    for (_, sc) in contracts {
        let address = Address::try_from_val(env, sc).expect("contract address");
        env.deployer().extend_ttl(address, max, max);
    }
}

/// Runs `inv` as the one host function of a transaction whose source
/// account is `inv.source`.
fn run(env: &Env, inv: &Invocation) -> Outcome {
    env.ledger().with_mut(|l| {
        if let Some(t) = inv.ledger_timestamp {
            l.timestamp = t;
        }
        if let Some(s) = inv.ledger_sequence {
            l.sequence_number = s;
        }
    });
    let args = match inv.args.clone().try_into() {
        Ok(args) => args,
        Err(_) => return host_error("too many arguments".into(), None),
    };
    let call = InvokeContractArgs {
        contract_address: inv.contract.clone(),
        function_name: ScSymbol(inv.function.as_str().try_into().expect("checked at parse")),
        args,
    };
    // Authorize exactly the source account, for exactly this call, like a
    // transaction signed by it would (SourceAccount credentials).
    match &inv.source {
        Some(account) => {
            if let Err(e) = env.host().set_source_account(account.clone()) {
                return host_error(format!("{:?}", e.error), None);
            }
            env.set_auths(&[SorobanAuthorizationEntry {
                credentials: SorobanCredentials::SourceAccount,
                root_invocation: SorobanAuthorizedInvocation {
                    function: SorobanAuthorizedFunction::ContractFn(call.clone()),
                    sub_invocations: Default::default(),
                },
            }]);
        }
        None => env.set_auths(&[]),
    }
    match env.host().invoke_function(HostFunction::InvokeContract(call)) {
        Ok(result) => Outcome::Ok {
            result,
            events: env.events().all().events().iter().map(to_event).collect(),
        },
        Err(e) if e.error.is_type(ScErrorType::Contract) => {
            Outcome::ContractError(e.error.get_code())
        }
        Err(e) => host_error(format!("{:?}", e.error), diagnostic_detail(env)),
    }
}

fn host_error(message: String, detail: Option<String>) -> Outcome {
    Outcome::HostError { message, detail }
}

/// The message of the first `error` diagnostic event of the last
/// invocation, with its arguments, e.g. `Unauthorized function call for
/// address [G...]`.
fn diagnostic_detail(env: &Env) -> Option<String> {
    let events = env.host().get_events().ok()?;
    events.0.iter().find_map(|e| {
        if e.event.type_ != ContractEventType::Diagnostic {
            return None;
        }
        let ContractEventBody::V0(body) = &e.event.body;
        if body.topics.first() != Some(&ScVal::Symbol(ScSymbol("error".try_into().ok()?))) {
            return None;
        }
        let text = |v: &ScVal| match v {
            ScVal::String(s) => s.to_utf8_string_lossy(),
            ScVal::Symbol(s) => s.to_utf8_string_lossy(),
            ScVal::Address(a) => a.to_string(),
            other => format!("{other:?}"),
        };
        Some(match &body.data {
            ScVal::Vec(Some(items)) if !items.is_empty() => {
                let args: Vec<String> = items[1..].iter().map(text).collect();
                if args.is_empty() {
                    text(&items[0])
                } else {
                    format!("{} [{}]", text(&items[0]), args.join(", "))
                }
            }
            other => text(other),
        })
    })
}

fn to_event(e: &ContractEvent) -> Event {
    let ContractEventBody::V0(body) = &e.body;
    Event {
        contract_id: e.contract_id.clone().map(ScAddress::Contract),
        topics: body.topics.to_vec(),
        data: body.data.clone(),
    }
}

impl ContractHost {
    /// Opens the host: loads `state_path` if it exists, otherwise starts
    /// from an empty ledger.
    pub fn open(state_path: Option<PathBuf>) -> Result<Self, String> {
        let snapshot = match &state_path {
            Some(path) if path.exists() => Some(
                LedgerSnapshot::read_file(path)
                    .map_err(|e| format!("cannot read state {}: {e}", path.display()))?,
            ),
            _ => None,
        };
        let (env, contracts) = build_env(snapshot);
        let host = ContractHost {
            env,
            contracts,
            state_path,
        };
        host.persist()?;
        Ok(host)
    }

    pub fn contracts(&self) -> &[(&'static str, ScAddress)] {
        &self.contracts
    }

    pub fn contract_by_name(&self, name: &str) -> Option<&ScAddress> {
        self.contracts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a)
    }

    /// `{"campaign":"C...","redemption":"C...","vesting":"C..."}`
    pub fn contracts_json(&self) -> Value {
        let mut map = JsonMap::new();
        for (name, address) in &self.contracts {
            map.insert((*name).to_string(), Value::String(address.to_string()));
        }
        Value::Object(map)
    }

    /// Runs `inv` and keeps its effects if it succeeds (and persists them);
    /// a failure changes nothing.
    pub fn invoke(&mut self, inv: &Invocation) -> Result<Outcome, String> {
        let ledger_before = self.env.ledger().get();
        let outcome = run(&self.env, inv);
        if matches!(outcome, Outcome::Ok { .. }) {
            keep_alive(&self.env, &self.contracts);
            self.persist()?;
        } else {
            // The host already rolled back storage and events; undo the
            // request's ledger info too.
            self.env.ledger().set(ledger_before);
        }
        Ok(outcome)
    }

    /// Runs `inv` against a copy of the current state, which is then thrown
    /// away: the host's state is never changed.
    pub fn simulate(&self, inv: &Invocation) -> Outcome {
        let (fork, _) = build_env(Some(self.env.to_ledger_snapshot()));
        run(&fork, inv)
    }

    /// Current ledger sequence and timestamp.
    pub fn ledger(&self) -> (u32, u64) {
        let info = self.env.ledger().get();
        (info.sequence_number, info.timestamp)
    }

    /// Writes the ledger to the state file, if any: to a temporary file
    /// next to it first, then renamed over it, so a crash never leaves a
    /// truncated state.
    fn persist(&self) -> Result<(), String> {
        let Some(path) = &self.state_path else {
            return Ok(());
        };
        write_atomically(path, &self.env.to_ledger_snapshot())
            .map_err(|e| format!("cannot write state {}: {e}", path.display()))
    }
}

fn write_atomically(path: &Path, snapshot: &LedgerSnapshot) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| e.to_string())?;
        let mut writer = BufWriter::new(file);
        snapshot.write(&mut writer).map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
        writer
            .into_inner()
            .map_err(|e| e.to_string())?
            .sync_all()
            .map_err(|e| e.to_string())?;
        fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
