//! The loopback HTTP front of [`ContractHost`](crate::ContractHost).
//!
//! Requests are handled one at a time, in arrival order, on the thread that
//! calls [`serve`] (the Soroban environment is single-threaded).

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Value};
use tiny_http::{Header, Method, Response, Server};

use crate::{ContractHost, Invocation};

/// Largest accepted request body.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// Binds `127.0.0.1:<port>` (0 picks a free port).
pub fn bind(port: u16) -> Result<Server, String> {
    Server::http(("127.0.0.1", port)).map_err(|e| format!("cannot bind 127.0.0.1:{port}: {e}"))
}

/// The port a server bound to.
pub fn port(server: &Server) -> u16 {
    server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or_default()
}

/// Answers requests, one at a time, until the server fails. Every answer is
/// JSON: 200 for `/health`, `/contracts` and every invocation that ran
/// (successful or not), 400 for a malformed request, 404/405 for an unknown
/// path/method, 413 for a body over 4 MiB, 500 when the state could not be
/// written (the invocation is then undone).
pub fn serve(server: Server, mut host: ContractHost) {
    for mut request in server.incoming_requests() {
        let mut body = String::new();
        let read = request
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_string(&mut body);
        let (status, json) = match read {
            Err(e) => request_error(format!("cannot read the body as UTF-8: {e}")),
            Ok(n) if n as u64 > MAX_BODY => (
                413,
                json!({"ok": false, "error": {"kind": "request", "message": "body too large"}}),
            ),
            Ok(_) => {
                let method = request.method().clone();
                let url = request.url().to_string();
                // A panic outside the contracts (which the Soroban host
                // already catches) must not take the server down.
                catch_unwind(AssertUnwindSafe(|| route(&mut host, &method, &url, &body)))
                    .unwrap_or_else(|_| {
                        (
                            500,
                            json!({"ok": false, "error": {"kind": "host",
                                "message": "internal error while handling the request (see stderr)"}}),
                        )
                    })
            }
        };
        let header = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .expect("static header");
        let response = Response::from_string(json.to_string())
            .with_status_code(status)
            .with_header(header);
        if let Err(e) = request.respond(response) {
            eprintln!("nova-contract-host: cannot answer a request: {e}");
        }
    }
}

/// Handles one request: returns the HTTP status and JSON body.
pub fn route(host: &mut ContractHost, method: &Method, url: &str, body: &str) -> (u16, Value) {
    let path = url.split('?').next().unwrap_or("");
    match (method, path) {
        (Method::Get, "/health") => (200, json!({"ok": true})),
        (Method::Get, "/contracts") => (200, host.contracts_json()),
        (Method::Post, "/invoke") | (Method::Post, "/simulate") => {
            let parsed: Value = match serde_json::from_str(body) {
                Ok(v) => v,
                Err(e) => return request_error(format!("body is not JSON: {e}")),
            };
            let inv = match Invocation::from_json(&parsed, host) {
                Ok(inv) => inv,
                Err(e) => return request_error(e.0),
            };
            if path == "/invoke" {
                match host.invoke(&inv) {
                    Ok(outcome) => (200, outcome.to_json()),
                    Err(message) => (
                        500,
                        json!({"ok": false, "error": {"kind": "host", "message": message}}),
                    ),
                }
            } else {
                (200, host.simulate(&inv).to_json())
            }
        }
        (_, "/health") | (_, "/contracts") | (_, "/invoke") | (_, "/simulate") => (
            405,
            json!({"ok": false, "error": {"kind": "request", "message": "method not allowed"}}),
        ),
        _ => (
            404,
            json!({"ok": false, "error": {"kind": "request", "message": "not found"}}),
        ),
    }
}

fn request_error(message: String) -> (u16, Value) {
    (
        400,
        json!({"ok": false, "error": {"kind": "request", "message": message}}),
    )
}
