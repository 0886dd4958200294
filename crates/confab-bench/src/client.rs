//! A protocol client: accounts, workspaces and channels over HTTP, sockets over WebSocket.
//! Sockets can come from many 127.0.0.x source addresses, to hold more connections than one
//! address has ephemeral ports.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base,
        }
    }

    pub async fn post(
        &self,
        token: Option<&str>,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }

    pub async fn get(&self, token: &str, path: &str) -> anyhow::Result<Value> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    pub async fn register(&self, name: &str) -> anyhow::Result<User> {
        let body = self
            .post(
                None,
                "/auth/register",
                json!({"username": name, "password": "bench-password"}),
            )
            .await?;
        Ok(User {
            id: str_of(&body["user"]["id"])?,
            token: str_of(&body["token"])?,
        })
    }

    /// `n` users in one workspace owned by the first; returns them and `#general`. Registers
    /// a few at a time: each costs the server a password hash.
    pub async fn team(&self, n: usize) -> anyhow::Result<(Vec<User>, String, String)> {
        use futures_util::{StreamExt, TryStreamExt};
        const PARALLEL: usize = 8;
        // The first alone: the server's first account administers it, and only an
        // administrator may add people who share no workspace with them yet.
        let mut users = vec![self.register("bench0").await?];
        let rest: Vec<User> = futures_util::stream::iter(1..n)
            .map(|i| async move { self.register(&format!("bench{i}")).await })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        users.extend(rest);
        let ws = self
            .post(
                Some(&users[0].token),
                "/workspaces",
                json!({"name": "bench"}),
            )
            .await?;
        let ws_id = str_of(&ws["workspace"]["id"])?;
        let members = format!("/workspaces/{ws_id}/members");
        futures_util::stream::iter(&users[1..])
            .map(|u| self.post(Some(&users[0].token), &members, json!({"user_id": u.id})))
            .buffered(PARALLEL)
            .try_collect::<Vec<_>>()
            .await?;
        Ok((
            users,
            ws_id,
            str_of(&ws["workspace"]["general_channel_id"])?,
        ))
    }

    pub async fn channel(
        &self,
        owner: &User,
        ws: &str,
        name: &str,
        members: &[User],
    ) -> anyhow::Result<String> {
        let c = self
            .post(
                Some(&owner.token),
                &format!("/workspaces/{ws}/channels"),
                json!({"name": name}),
            )
            .await?;
        let id = str_of(&c["channel"]["id"])?;
        for m in members {
            if m.id != owner.id {
                self.post(
                    Some(&owner.token),
                    &format!("/channels/{id}/members"),
                    json!({"user_id": m.id}),
                )
                .await?;
            }
        }
        Ok(id)
    }
}

pub fn str_of(v: &Value) -> anyhow::Result<String> {
    v.as_str()
        .map(str::to_owned)
        .with_context(|| format!("expected a string, got {v}"))
}

/// A TCP connection (no Nagle) from source address 127.0.0.(2 + `spread` % 250).
pub async fn tcp_connect(server: SocketAddr, spread: usize) -> anyhow::Result<TcpStream> {
    let source = Ipv4Addr::new(127, 0, 0, 2 + (spread % 250) as u8);
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a WebSocket over `tcp_connect` and reads its `hello`.
pub async fn connect(
    ws_url: &str,
    server: &str,
    token: &str,
    spread: usize,
) -> anyhow::Result<Socket> {
    use futures_util::StreamExt;
    let stream = tcp_connect(server.parse()?, spread).await?;
    let mut request = ws_url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) =
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await?;
    match ws.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))
            if t.as_str().contains("\"hello\"") =>
        {
            Ok(ws)
        }
        other => bail!("expected hello, got {other:?}"),
    }
}
