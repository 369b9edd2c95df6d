//! `nova-contract-host [--port N] [--state PATH] [--deployer G...] [--network-passphrase P]`
//!
//! Serves the Nova Rewards contracts over HTTP on 127.0.0.1 (see the
//! workspace README). The port comes from `--port`, else the environment
//! variable `CONTRACT_HOST_PORT`, else 0 (any free port); the state file
//! from `--state`, else `CONTRACT_HOST_STATE`, else none (in memory only).
//! The first line printed on stdout is `listening on 127.0.0.1:<port>`, the
//! second `contracts <JSON of the contract ids>`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use nova_contract_host::{server, ContractHost, HostConfig};
use soroban_sdk::xdr::ScAddress;

const USAGE: &str = "usage: nova-contract-host [--port N] [--state PATH] [--deployer G...] [--network-passphrase P]
  --port N                port on 127.0.0.1 (default: $CONTRACT_HOST_PORT, else 0 = any free port)
  --state PATH            ledger state file, loaded at start and written after every
                          successful invoke (default: $CONTRACT_HOST_STATE, else in memory only)
  --deployer G...         derive the contract ids as the network does for contracts deployed
                          by this account with salt sha256(\"nova-rewards:<name>\")
                          (default: $CONTRACT_HOST_DEPLOYER, else ids sha256(\"nova-rewards:<name>\"))
  --network-passphrase P  network of a new state and of the derived ids (default:
                          $CONTRACT_HOST_NETWORK_PASSPHRASE, else \"Standalone Network ; February 2017\")";

const OPTIONS: [(&str, &str); 4] = [
    ("--port", "CONTRACT_HOST_PORT"),
    ("--state", "CONTRACT_HOST_STATE"),
    ("--deployer", "CONTRACT_HOST_DEPLOYER"),
    ("--network-passphrase", "CONTRACT_HOST_NETWORK_PASSPHRASE"),
];

struct Args {
    port: u16,
    config: HostConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut values: [Option<String>; 4] = Default::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Err(String::new());
        }
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let Some(i) = OPTIONS.iter().position(|(option, _)| *option == key) else {
            return Err(format!("unknown argument `{arg}`"));
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or(format!("{key} needs a value"))?,
        };
        values[i] = Some(value);
    }
    // Options win over the environment; empty values count as unset.
    let [port, state, deployer, passphrase] = values;
    let pick = |value: Option<String>, i: usize| {
        value
            .or_else(|| std::env::var(OPTIONS[i].1).ok())
            .filter(|v| !v.is_empty())
    };
    let port = pick(port, 0)
        .map(|p| p.parse::<u16>().map_err(|_| format!("invalid port `{p}`")))
        .transpose()?
        .unwrap_or(0);
    let deployer = pick(deployer, 2)
        .map(|d| match d.parse::<ScAddress>() {
            Ok(ScAddress::Account(account)) => Ok(account),
            _ => Err(format!("invalid deployer `{d}`: expected a G... account")),
        })
        .transpose()?;
    Ok(Args {
        port,
        config: HostConfig {
            state_path: pick(state, 1).map(PathBuf::from),
            network_passphrase: pick(passphrase, 3),
            deployer,
        },
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("nova-contract-host: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Native contracts fail by panicking (the host catches the unwind and
    // turns it into an error response): keep each to one stderr line.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("nova-contract-host: panic: {info}");
    }));
    let host = match ContractHost::open(args.config) {
        Ok(host) => host,
        Err(e) => {
            eprintln!("nova-contract-host: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match server::bind(args.port) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("nova-contract-host: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on 127.0.0.1:{}", server::port(&server));
    let _ = writeln!(out, "contracts {}", host.contracts_json());
    let _ = out.flush();
    drop(out);
    server::serve(server, host);
    ExitCode::SUCCESS
}
