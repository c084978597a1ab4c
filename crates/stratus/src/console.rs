//! `/console/{token}`: the websocket a server's console is reached at, as handed out by
//! `request_console` (`wss_url`).
//!
//! The simulator has no screen to show, so its console echoes whatever the client sends:
//! enough for clients to prove they can request a console, connect with the returned
//! URL and exchange data. The QEMU driver issue puts a real VNC stream behind this path.
//! TODO-fidelity: Hetzner's console speaks VNC (RFB) over the websocket, which a real
//! noVNC client would expect; the echo does not.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use stratus_compute::sim::SimDriver;

/// The console route, checking tokens against the simulator's live sessions.
pub fn routes(sim: Arc<SimDriver>) -> Router {
    Router::new().route("/console/{token}", get(console)).with_state(sim)
}

/// The token is checked before the upgrade, so a plain `GET` with a wrong or expired
/// token gets an HTTP 401 a client can report, rather than a websocket that closes.
async fn console(
    State(sim): State<Arc<SimDriver>>,
    Path(token): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // 401 rather than 404: the token is a credential (it expires), not a resource name.
    let Some((vm, _password)) = sim.console_session(&token) else {
        return (StatusCode::UNAUTHORIZED, "unknown or expired console token").into_response();
    };
    match upgrade {
        Ok(ws) => ws.on_upgrade(move |socket| echo(socket, vm)),
        Err(rejection) => rejection.into_response(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use stratus_compute::driver::{CallContext, Driver, HardwareSpec, VmSpec};
    use stratus_compute::sim::SimTiming;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    async fn serve(sim: Arc<SimDriver>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, routes(sim)).await });
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
        let addr = serve(sim).await;

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
}
