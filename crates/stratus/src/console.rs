//! `/console/{token}`: the websocket a server's console is reached at, as handed out by
//! `request_console` (`wss_url`), and `/novnc/`, the noVNC pages that open it in a
//! browser.
//!
//! What the websocket leads to is the driver's ([`ConsoleTarget`]): under libvirt, the
//! VM's own VNC websocket, relayed frame by frame, so the client speaks VNC (RFB) with
//! QEMU and authenticates with the `request_console` password end to end; the simulator
//! has no screen, so its console echoes what the client sends (enough for clients to
//! prove they can request a console, connect and exchange data).
//! TODO-fidelity: the simulator's echo is not VNC; a real noVNC client cannot use it.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::{SinkExt, StreamExt};
use std::path::PathBuf;
use std::sync::Arc;
use stratus_compute::console::{ConsoleSession, ConsoleTarget};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Upstream;

/// Looks a token up (the driver's live sessions).
pub type Lookup = Arc<dyn Fn(&str) -> Option<ConsoleSession> + Send + Sync>;

/// VNC over websocket names its subprotocol `binary` (QEMU requires it; noVNC offers it).
const SUBPROTOCOL: &str = "binary";

/// The console websocket and, when `novnc_dir` holds noVNC, its pages at `/novnc/`.
pub fn routes(lookup: Lookup, novnc_dir: PathBuf) -> Router {
    let novnc = tower_http::services::ServeDir::new(novnc_dir);
    Router::new().route("/console/{token}", get(console)).with_state(lookup).nest_service("/novnc", novnc)
}

/// The token is checked before the upgrade, so a plain `GET` with a wrong or expired
/// token gets an HTTP 401 a client can report, rather than a websocket that closes.
async fn console(
    State(lookup): State<Lookup>,
    Path(token): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // 401 rather than 404: the token is a credential (it expires), not a resource name.
    let Some(session) = lookup(&token) else {
        return (StatusCode::UNAUTHORIZED, "unknown or expired console token").into_response();
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let vm = session.vm;
    match session.target {
        ConsoleTarget::Echo => upgrade.on_upgrade(move |socket| echo(socket, vm)),
        ConsoleTarget::Vnc { websocket } => {
            upgrade.protocols([SUBPROTOCOL]).on_upgrade(move |socket| relay(socket, vm, websocket))
        }
    }
}

async fn echo(mut socket: WebSocket, vm: i64) {
    tracing::debug!(vm, "console connected");
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            Message::Text(_) | Message::Binary(_) => {
                if socket.send(message).await.is_err() {
                    break;
                }
            }
            Message::Close(_) => break,
            // Pings are answered by the websocket layer itself.
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    tracing::debug!(vm, "console closed");
}

/// Relays data frames both ways until either side closes.
async fn relay(client: WebSocket, vm: i64, upstream: String) {
    let mut request = match upstream.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => {
            tracing::warn!(vm, error = %e, "console: bad VNC websocket address");
            return;
        }
    };
    request.headers_mut().insert("Sec-WebSocket-Protocol", SUBPROTOCOL.parse().expect("a valid header value"));
    let server = match tokio_tungstenite::connect_async(request).await {
        Ok((server, _)) => server,
        Err(e) => {
            // The client sees its websocket close; the reason is for the operator.
            tracing::warn!(vm, error = %e, "console: the VM's VNC websocket does not answer");
            return;
        }
    };
    tracing::debug!(vm, "console connected to the VM's VNC");
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    let up = async {
        while let Some(Ok(message)) = from_client.next().await {
            let forwarded = match message {
                Message::Binary(data) => Upstream::Binary(data),
                Message::Text(text) => Upstream::text(text.as_str()),
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if to_server.send(forwarded).await.is_err() {
                break;
            }
        }
        let _ = to_server.close().await;
    };
    let down = async {
        while let Some(Ok(message)) = from_server.next().await {
            let forwarded = match message {
                Upstream::Binary(data) => Message::Binary(data),
                Upstream::Text(text) => Message::Text(text.as_str().into()),
                Upstream::Close(_) => break,
                Upstream::Ping(_) | Upstream::Pong(_) | Upstream::Frame(_) => continue,
            };
            if to_client.send(forwarded).await.is_err() {
                break;
            }
        }
        let _ = to_client.close().await;
    };
    // Whichever side ends first ends the session.
    tokio::select! {
        () = up => {}
        () = down => {}
    }
    tracing::debug!(vm, "console closed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_compute::driver::{CallContext, Driver, HardwareSpec, VmSpec};
    use stratus_compute::sim::{SimDriver, SimTiming};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response as HandshakeResponse};
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    async fn serve(lookup: Lookup, novnc: PathBuf) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, routes(lookup, novnc)).await });
        addr
    }

    #[tokio::test]
    async fn a_live_session_echoes_and_an_unknown_token_is_refused() {
        let sim = Arc::new(SimDriver::new(SimTiming::Instant));
        let spec = VmSpec {
            id: 1,
            name: "web".into(),
            hardware: HardwareSpec { cores: 1, memory_mb: 1024, disks: vec![] },
            image: None,
            ssh_keys: vec![],
            root_password: None,
            user_data: None,
            nics: vec![],
        };
        sim.create(&spec, &CallContext::now()).await.unwrap();
        sim.start(1, &CallContext::now()).await.unwrap();
        let endpoint = sim.console(1).await.unwrap();
        let driver = sim.clone();
        let addr = serve(Arc::new(move |t: &str| driver.console_session(t)), "/nonexistent".into()).await;

        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{}", endpoint.wss_url)).await.unwrap();
        ws.send(WsMessage::text("hello")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), WsMessage::text("hello"));
        ws.send(WsMessage::binary(vec![1u8, 2, 3])).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), WsMessage::binary(vec![1u8, 2, 3]));
        ws.close(None).await.unwrap();

        let err = tokio_tungstenite::connect_async(format!("ws://{addr}/console/nope")).await.unwrap_err();
        match err {
            tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 401),
            other => panic!("expected an HTTP 401, got {other:?}"),
        }
    }

    /// A stand-in for QEMU's VNC websocket: checks the subprotocol, greets like an RFB
    /// server, then answers every frame with its length.
    async fn fake_vnc() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            // tungstenite's callback type fixes the (large) error type.
            #[allow(clippy::result_large_err)]
            let check = |request: &Request, mut response: HandshakeResponse| {
                let offered = request.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok());
                assert_eq!(offered, Some("binary"), "QEMU refuses a handshake without it");
                response.headers_mut().insert("Sec-WebSocket-Protocol", "binary".parse().unwrap());
                Ok(response)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(stream, check).await.unwrap();
            ws.send(WsMessage::binary(b"RFB 003.008\n".to_vec())).await.unwrap();
            while let Some(Ok(WsMessage::Binary(data))) = ws.next().await {
                ws.send(WsMessage::binary(vec![u8::try_from(data.len()).unwrap()])).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_vnc_session_is_relayed_both_ways() {
        let vnc = fake_vnc().await;
        let target = ConsoleTarget::Vnc { websocket: format!("ws://{vnc}") };
        let lookup: Lookup =
            Arc::new(move |t: &str| (t == "good").then(|| ConsoleSession { vm: 7, target: target.clone() }));
        let addr = serve(lookup, "/nonexistent".into()).await;
        let mut request = format!("ws://{addr}/console/good").into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", "binary".parse().unwrap());
        let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(response.headers().get("Sec-WebSocket-Protocol").unwrap(), "binary", "as noVNC asks");
        assert_eq!(ws.next().await.unwrap().unwrap(), WsMessage::binary(b"RFB 003.008\n".to_vec()));
        ws.send(WsMessage::binary(b"RFB 003.008\n".to_vec())).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), WsMessage::binary(vec![12u8]));
    }

    #[tokio::test]
    async fn novnc_pages_are_served_from_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vnc_lite.html"), "<title>noVNC</title>").unwrap();
        let addr = serve(Arc::new(|_: &str| None), dir.path().to_owned()).await;
        let page = reqwest::get(format!("http://{addr}/novnc/vnc_lite.html")).await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.text().await.unwrap(), "<title>noVNC</title>");
        assert_eq!(reqwest::get(format!("http://{addr}/novnc/missing.html")).await.unwrap().status(), 404);
    }
}
