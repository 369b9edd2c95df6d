//! `nova-contract-host [--port N] [--state PATH]`
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

use nova_contract_host::{server, ContractHost};

const USAGE: &str = "usage: nova-contract-host [--port N] [--state PATH]
  --port N       port on 127.0.0.1 (default: $CONTRACT_HOST_PORT, else 0 = any free port)
  --state PATH   ledger state file, loaded at start and written after every
                 successful invoke (default: $CONTRACT_HOST_STATE, else in memory only)";

struct Args {
    port: u16,
    state: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut port: Option<String> = None;
    let mut state: Option<String> = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        match key.as_str() {
            "--port" | "--state" => {
                let value = match inline {
                    Some(v) => v,
                    None => it.next().ok_or(format!("{key} needs a value"))?,
                };
                if key == "--port" {
                    port = Some(value);
                } else {
                    state = Some(value);
                }
            }
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    let port = port
        .or_else(|| std::env::var("CONTRACT_HOST_PORT").ok())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u16>().map_err(|_| format!("invalid port `{p}`")))
        .transpose()?
        .unwrap_or(0);
    let state = state
        .or_else(|| std::env::var("CONTRACT_HOST_STATE").ok())
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    Ok(Args { port, state })
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
        eprintln!("nova-contract-host: contract panic: {info}");
    }));
    let host = match ContractHost::open(args.state.clone()) {
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
