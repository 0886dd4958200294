//! Randomized convergence: users send, reply, edit, delete, react, join and leave in a random
//! order while one client disconnects and reconnects at random points, catching up each time.
//! At the end its state, built only from live events and catch-ups, must equal the server's
//! and that of a client that never disconnected. Several seeds; each is reproducible.
//!
//! The reconnecting client catches up with small pages (1 to 5 messages), so page boundaries
//! fall inside version groups (a reply and its root), and deletes pick any of an actor's
//! messages, thread replies included. The server's state is one fresh full read.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::harness::{Server, User, Ws, s};

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A client's view of the channel: message ID → message, newest version wins.
#[derive(Default)]
struct ClientState {
    messages: BTreeMap<String, Value>,
    /// The highest channel sequence number accounted for.
    cursor: i64,
}

impl ClientState {
    fn apply_message(&mut self, m: &Value) {
        let id = s(&m["id"]);
        let newer = self
            .messages
            .get(&id)
            .is_none_or(|old| old["version"].as_i64() <= m["version"].as_i64());
        if newer {
            self.messages.insert(id, m.clone());
        }
    }

    fn apply_event(&mut self, e: &Value) {
        for key in ["message", "root"] {
            if e[key].is_object() {
                self.apply_message(&e[key]);
            }
        }
        self.cursor = self.cursor.max(e["seq"].as_i64().unwrap_or_default());
    }

    /// Reads live frames until the cursor reaches `through`.
    async fn drain(&mut self, ws: &mut Ws, channel: &str, through: i64) {
        while self.cursor < through {
            let e = ws.next_event_in(channel).await;
            self.apply_event(&e);
        }
    }
}

async fn catch_up(
    server: &Server,
    user: &User,
    channel: &str,
    state: &mut ClientState,
    limit: u32,
) {
    let (messages, cursor) = server.catch_up(user, channel, state.cursor, limit).await;
    for m in &messages {
        state.apply_message(m);
    }
    state.cursor = state.cursor.max(cursor);
}

async fn last_seq(server: &Server, user: &User, channel: &str) -> i64 {
    let (_, body) = server
        .get(&user.token, &format!("/channels/{channel}"))
        .await;
    body["channel"]["last_seq"].as_i64().expect("last_seq")
}

async fn run(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let server = Server::start().await;
    let owner = server.register("owner").await;
    let steady_user = server.register("steady").await;
    let flaky_user = server.register("flaky").await;
    let actors = [
        server.register("ann").await,
        server.register("ben").await,
        server.register("cat").await,
    ];
    let refs: Vec<&User> = [&steady_user, &flaky_user]
        .into_iter()
        .chain(actors.iter())
        .collect();
    let (ws, _) = server.workspace(&owner, &refs).await;
    let room = server
        .channel(
            &owner,
            &ws,
            "room",
            false,
            &[&steady_user, &flaky_user, &actors[0]],
        )
        .await;
    let mut in_room = [true, false, false];

    let mut steady_ws = server.connect(&steady_user).await;
    let mut flaky_ws = Some(server.connect(&flaky_user).await);
    let mut steady = ClientState {
        cursor: last_seq(&server, &owner, &room).await,
        ..Default::default()
    };
    let mut flaky = ClientState {
        cursor: steady.cursor,
        ..Default::default()
    };
    // Messages each actor wrote and that are not deleted.
    let mut live: Vec<(usize, String)> = Vec::new();

    for step in 0..120 {
        let who = rng.below(actors.len());
        let actor = &actors[who];
        if !in_room[who] {
            let (status, _) = server
                .post(&actor.token, &format!("/channels/{room}/join"), json!({}))
                .await;
            assert_eq!(status, 200);
            in_room[who] = true;
            continue;
        }
        let roll = rng.below(100);
        match roll {
            0..=39 => {
                let mut body = json!({"client_msg_id": format!("s{seed}-{step}"), "body": format!("message {step} from {who}")});
                if !live.is_empty() && rng.chance(50) {
                    body["thread_root_id"] = json!(live[rng.below(live.len())].1);
                }
                let (status, resp) = server
                    .post(&actor.token, &format!("/channels/{room}/messages"), body)
                    .await;
                assert_eq!(status, 201, "{resp}");
                live.push((who, s(&resp["message"]["id"])));
            }
            40..=54 => {
                if let Some((_, id)) = live.iter().find(|(author, _)| *author == who) {
                    let path = format!("/messages/{id}");
                    let (status, resp) = server
                        .request(
                            reqwest::Method::PATCH,
                            Some(&actor.token),
                            &path,
                            Some(json!({"body": format!("edited at {step}")})),
                        )
                        .await;
                    assert_eq!(status, 200, "{resp}");
                }
            }
            55..=64 => {
                let own: Vec<usize> = (0..live.len()).filter(|&i| live[i].0 == who).collect();
                if !own.is_empty() {
                    let (_, id) = live.remove(own[rng.below(own.len())]);
                    let (status, _) = server
                        .request(
                            reqwest::Method::DELETE,
                            Some(&actor.token),
                            &format!("/messages/{id}"),
                            None,
                        )
                        .await;
                    assert_eq!(status, 204);
                }
            }
            65..=84 => {
                if !live.is_empty() {
                    let (_, id) = &live[rng.below(live.len())];
                    let emoji = ["%F0%9F%91%8D", ":tada:", ":eyes:"][rng.below(3)];
                    let method = if rng.chance(70) {
                        reqwest::Method::PUT
                    } else {
                        reqwest::Method::DELETE
                    };
                    let (status, resp) = server
                        .request(
                            method,
                            Some(&actor.token),
                            &format!("/messages/{id}/reactions/{emoji}"),
                            None,
                        )
                        .await;
                    assert_eq!(status, 200, "{resp}");
                }
            }
            _ => {
                let (status, _) = server
                    .post(&actor.token, &format!("/channels/{room}/leave"), json!({}))
                    .await;
                assert_eq!(status, 204);
                in_room[who] = false;
            }
        }
        // The flaky client drops off or comes back at random points.
        if rng.chance(12) {
            match flaky_ws.take() {
                Some(socket) => drop(socket),
                None => {
                    flaky_ws = Some(server.connect(&flaky_user).await);
                    let limit = 1 + rng.below(5) as u32;
                    catch_up(&server, &flaky_user, &room, &mut flaky, limit).await;
                }
            }
        }
        // Live clients keep reading as they go, as real ones do.
        if rng.chance(25) {
            let through = last_seq(&server, &owner, &room).await;
            steady.drain(&mut steady_ws, &room, through).await;
            if let Some(socket) = flaky_ws.as_mut() {
                flaky.drain(socket, &room, through).await;
            }
        }
    }

    let flaky_socket = match flaky_ws.as_mut() {
        Some(socket) => socket,
        None => {
            flaky_ws = Some(server.connect(&flaky_user).await);
            catch_up(&server, &flaky_user, &room, &mut flaky, 2).await;
            flaky_ws.as_mut().expect("just connected")
        }
    };
    let through = last_seq(&server, &owner, &room).await;
    steady.drain(&mut steady_ws, &room, through).await;
    flaky.drain(flaky_socket, &room, through).await;

    // The server's state: one full read, no paging.
    let mut truth = ClientState::default();
    let (status, full) = server
        .get(
            &owner.token,
            &format!("/channels/{room}/messages?since=0&limit=200"),
        )
        .await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(
        full["has_more"], false,
        "seed {seed}: one page holds it all"
    );
    for m in full["messages"].as_array().expect("messages") {
        truth.apply_message(m);
    }
    assert!(
        truth.messages.len() > 20,
        "seed {seed}: the run did something"
    );
    assert_eq!(
        steady.messages, truth.messages,
        "seed {seed}: the never-disconnected client matches the server"
    );
    assert_eq!(
        flaky.messages, truth.messages,
        "seed {seed}: the reconnecting client matches the server"
    );
}

#[tokio::test]
async fn convergence_seed_1() {
    run(1).await;
}

#[tokio::test]
async fn convergence_seed_2() {
    run(2).await;
}

#[tokio::test]
async fn convergence_seed_3() {
    run(3).await;
}

#[tokio::test]
async fn convergence_seed_4() {
    run(4).await;
}

#[tokio::test]
async fn convergence_seed_5() {
    run(5).await;
}
