//! Search against the real binary over HTTP: results with their channel and highlights,
//! paging, relevance, the spec's filter parameters, files, access, and every refusal a 4xx.

use serde_json::{Value, json};

use crate::files::{pattern, upload};
use crate::harness::{Server, User, s};

/// `q` percent-encoded for a query string.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(server: &Server, user: &User, ws: &str, rest: &str) -> (u16, Value) {
    server
        .get(&user.token, &format!("/search?workspace_id={ws}&{rest}"))
        .await
}

/// The bodies of a successful search, in order.
async fn bodies(server: &Server, user: &User, ws: &str, q: &str) -> Vec<String> {
    let (status, body) = search(server, user, ws, &format!("q={}", encode(q))).await;
    assert_eq!(status, 200, "{q}: {body}");
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| s(&r["message"]["body"]))
        .collect()
}

#[tokio::test]
async fn search_answers_messages_with_their_channel_and_highlights_and_pages() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    let ops = server.channel(&ada, &ws, "ops", false, &[]).await;
    server
        .send(&ada, &general, "a", "🎉 Deployment of café done")
        .await;
    server.send(&ada, &ops, "b", "deploying again").await;
    server.send(&ada, &ops, "c", "unrelated").await;

    let (status, body) = search(&server, &ada, &ws, "q=deplo%20cafe").await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{body}");
    assert_eq!(results[0]["channel_id"], json!(general));
    // UTF-16 offsets: 🎉 is two code units, so "Deplo" starts at 3.
    assert_eq!(
        results[0]["highlights"],
        json!([{"start": 3, "end": 8}, {"start": 17, "end": 21}])
    );
    assert_eq!(body["total_estimate"], 1);

    // Newest first, one a page, then the next from the cursor.
    let (_, first) = search(&server, &ada, &ws, "q=deplo&limit=1").await;
    assert_eq!(
        s(&first["results"][0]["message"]["body"]),
        "deploying again"
    );
    assert_eq!(first["total_estimate"], 2);
    let cursor = s(&first["next_cursor"]);
    let (_, second) = search(
        &server,
        &ada,
        &ws,
        &format!("q=deplo&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        s(&second["results"][0]["message"]["body"]),
        "🎉 Deployment of café done"
    );
    assert!(second.get("next_cursor").is_none(), "{second}");

    // The spec's parameters narrow as the operators do.
    let (_, only_ops) = search(&server, &ada, &ws, &format!("q=deplo&channel_id={ops}")).await;
    assert_eq!(only_ops["results"].as_array().expect("results").len(), 1);
    assert_eq!(only_ops["results"][0]["channel_id"], json!(ops));
    let (_, from_ada) = search(&server, &ada, &ws, &format!("q=deplo&from={}", ada.id)).await;
    assert_eq!(from_ada["results"].as_array().expect("results").len(), 2);
    let (_, old) = search(&server, &ada, &ws, "q=deplo&before=2000-01-01").await;
    assert_eq!(old["results"], json!([]));
    let (_, recent) = search(&server, &ada, &ws, "q=deplo&after=2000-01-01").await;
    assert_eq!(recent["results"].as_array().expect("results").len(), 2);
    // Relevance: the exact word first.
    server.send(&ada, &ops, "d", "deploy now").await;
    let (_, ranked) = search(&server, &ada, &ws, "q=deploy&sort=relevance").await;
    assert_eq!(s(&ranked["results"][0]["message"]["body"]), "deploy now");
}

#[tokio::test]
async fn edits_deletes_and_leaving_change_what_search_finds_at_once() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let bo = server.register("bo").await;
    let (ws, general) = server.workspace(&ada, &[&bo]).await;
    let secret = server.channel(&ada, &ws, "secret", true, &[&bo]).await;
    let m = server.send(&ada, &general, "a", "old words here").await;
    server.send(&ada, &secret, "b", "secret words here").await;
    assert_eq!(bodies(&server, &bo, &ws, "words").await.len(), 2);
    let (status, _) = server
        .patch(
            &ada.token,
            &format!("/messages/{}", s(&m["id"])),
            json!({"body": "new text here"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bodies(&server, &bo, &ws, "old").await, Vec::<String>::new());
    assert_eq!(bodies(&server, &bo, &ws, "new").await, ["new text here"]);
    let (status, _) = server
        .delete(&ada.token, &format!("/messages/{}", s(&m["id"])))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        bodies(&server, &bo, &ws, "here").await,
        ["secret words here"]
    );
    let (status, body) = server
        .post(&bo.token, &format!("/channels/{secret}/leave"), json!({}))
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(
        bodies(&server, &bo, &ws, "here").await,
        Vec::<String>::new()
    );
    // Nor can a channel the caller cannot read be named: not found, as anywhere else.
    let (status, body) = search(&server, &bo, &ws, &format!("q=here&channel_id={secret}")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("channel_not_found"))
    );
}

#[tokio::test]
async fn has_file_finds_messages_with_files_even_without_words() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    let file = upload(&server, &ada, &ws, "report.bin", pattern(100)).await;
    let (status, body) = server
        .post(
            &ada.token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "f", "body": "", "file_ids": [file]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    server.send(&ada, &general, "t", "just text").await;
    let (status, found) = search(&server, &ada, &ws, "q=has%3Afile").await;
    assert_eq!(status, 200, "{found}");
    let results = found["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{found}");
    assert_eq!(results[0]["message"]["files"][0]["id"], json!(file));
}

#[tokio::test]
async fn bad_searches_are_clear_4xx_and_never_500() {
    let server = Server::start_with(&["--search-max-query-chars", "20"]).await;
    let ada = server.register("ada").await;
    let stranger = server.register("stranger").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let cases: Vec<(String, u16, &str)> = vec![
        ("q=a&limit=0".into(), 400, "invalid_limit"),
        ("q=a&limit=101".into(), 400, "invalid_limit"),
        ("q=a&cursor=nope".into(), 400, "invalid_cursor"),
        ("q=a&cursor=1.-5".into(), 400, "invalid_cursor"),
        ("q=a&cursor=10000.5".into(), 400, "invalid_cursor"),
        (
            "q=a&cursor=1.9999999999999999999".into(),
            400,
            "invalid_cursor",
        ),
        ("q=a&before=2026-13-01".into(), 400, "invalid_request"),
        ("q=a&sort=sideways".into(), 400, "invalid_request"),
        ("q=a&channel_id=not-an-id".into(), 400, "invalid_id"),
        // PostgreSQL's text holds no NUL: refused before any statement (it was a 500).
        ("q=a%00b".into(), 400, "invalid_request"),
        (format!("q={}", "x".repeat(21)), 400, "query_too_long"),
        (
            format!("q=a&channel_id={}", uuid()),
            404,
            "channel_not_found",
        ),
    ];
    for (rest, status, code) in cases {
        let (got, body) = search(&server, &ada, &ws, &rest).await;
        assert_eq!(
            (got, s(&body["error"]["code"])),
            (status, code.to_owned()),
            "{rest}: {body}"
        );
    }
    // No workspace, someone else's, or a malformed one.
    let (status, body) = server.get(&ada.token, "/search?q=a").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = search(&server, &stranger, &ws, "q=a").await;
    assert_eq!(
        (status, s(&body["error"]["code"])),
        (404, "workspace_not_found".into())
    );
    let (status, _) = server.get(&ada.token, "/search?q=a&workspace_id=x").await;
    assert_eq!(status, 400);
    // As anywhere a query string is read: schemathesis found the members list's 500.
    let (status, body) = server
        .get(
            &ada.token,
            &format!("/workspaces/{ws}/members?after=u9%C3%AA%00%F0%9D%85%BA"),
        )
        .await;
    assert_eq!(
        (status, s(&body["error"]["code"])),
        (400, "invalid_request".into()),
        "{body}"
    );
    // Hostile text is only words: FTS and tsquery syntax, quotes, wildcards, nothing else.
    for q in [
        "\"",
        "-",
        "*",
        "a OR b",
        "NEAR(a b)",
        "'",
        "\\",
        "%_",
        ":*",
        "(((",
        "in:",
        "from:@",
        "上",
        "゛",
        "\u{3099}",
        "...",
        "#",
        "-\"\"",
        "on:2026-02-30",
    ] {
        let (status, body) = search(&server, &ada, &ws, &format!("q={}", encode(q))).await;
        assert_eq!(status, 200, "{q}: {body}");
    }
}

fn uuid() -> String {
    // A well-formed channel ID no channel has.
    "0190f3c2-7d4e-7a1b-8c2d-3e4f5a6b7c8d".into()
}

#[tokio::test]
async fn searches_are_rate_limited_per_user() {
    let server =
        Server::start_with(&["--search-rate-per-min", "1", "--search-rate-burst", "2"]).await;
    let ada = server.register("ada").await;
    let bo = server.register("bo").await;
    let (ws, _) = server.workspace(&ada, &[&bo]).await;
    for _ in 0..2 {
        assert_eq!(search(&server, &ada, &ws, "q=a").await.0, 200);
    }
    let (status, body) = search(&server, &ada, &ws, "q=a").await;
    assert_eq!(
        (status, s(&body["error"]["code"])),
        (429, "rate_limited".into()),
        "{body}"
    );
    // Another member is not held back by her.
    assert_eq!(search(&server, &bo, &ws, "q=a").await.0, 200);
}
