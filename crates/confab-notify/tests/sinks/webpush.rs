//! The Web Push sink: what a push service receives is encrypted for the subscription alone and
//! signed with the server's VAPID key; the service's answers become gone subscriptions,
//! retries or refusals; the sink keeps to its concurrency limit.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use base64ct::{Base64UrlUnpadded, Encoding};
use confab_notify::testing::Subscription;
use confab_notify::{PushTarget, Sink, SinkError, SinkKind, VapidKeys, WebPushSink};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::receiver::{Receiver, Request};
use super::{WAIT, digest, item, within};

const CONTACT: &str = "mailto:ops@confab.test";

fn sink(vapid: VapidKeys, max_concurrent: usize) -> WebPushSink {
    WebPushSink::new(vapid, CONTACT, 3600, max_concurrent, WAIT).expect("push sink")
}

fn subscription() -> Subscription {
    Subscription::generate().expect("a subscription's keys")
}

fn b64(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).expect("base64url")
}

/// The claims of the request's VAPID JWT, once its signature checks out against `vapid`'s
/// public key, which the header must also carry.
fn vapid_claims(request: &Request, vapid: &VapidKeys) -> Value {
    let authorization = request.header("authorization");
    let rest = authorization
        .strip_prefix("vapid t=")
        .expect("vapid scheme");
    let (jwt, k) = rest.split_once(", k=").expect("t and k");
    assert_eq!(k, vapid.public_key_base64url());

    let public = VerifyingKey::from_sec1_bytes(&b64(k)).expect("a P-256 point");
    let (signing_input, signature) = jwt.rsplit_once('.').expect("three parts");
    let signature = Signature::from_slice(&b64(signature)).expect("r ‖ s");
    public
        .verify(signing_input.as_bytes(), &signature)
        .expect("signed by the VAPID key");

    let (header, claims) = signing_input.split_once('.').expect("three parts");
    let header: Value = serde_json::from_slice(&b64(header)).expect("json header");
    assert_eq!(header, json!({"typ": "JWT", "alg": "ES256"}));
    serde_json::from_slice(&b64(claims)).expect("json claims")
}

#[tokio::test]
async fn pushes_encrypted_payload_signed_with_vapid() {
    let mut receiver = Receiver::start(StatusCode::CREATED).await;
    let vapid = VapidKeys::generate().expect("vapid keys");
    let sink = sink(vapid.clone(), 4);
    assert_eq!(sink.kind(), SinkKind::Push);
    let browser = subscription();
    let target = browser.target("sub-1", &format!("{}/push/abc", receiver.url));
    let d = digest(
        None,
        vec![
            item("ch-ops", "#ops", "Ada", Some("hi @bob"), 12),
            item("ch-dev", "#dev", "Cy", None, 4),
        ],
        vec!["ch-read".into()],
    );

    let delivered = within(sink.deliver(&d, &[target]))
        .await
        .expect("delivered");
    assert!(delivered.gone.is_empty());

    let request = receiver.next().await;
    assert_eq!(request.path, "/push/abc");
    assert_eq!(request.header("content-encoding"), "aes128gcm");
    assert_eq!(request.header("ttl"), "3600");
    assert_eq!(request.header("urgency"), "high");

    let plaintext = browser.decrypt(&request.body).expect("decrypts");
    let payload: Value = serde_json::from_slice(&plaintext).expect("json payload");
    assert_eq!(
        payload,
        json!({
            "notifications": [
                {"tag": "ch-ops", "title": "Ada in #ops", "body": "hi @bob",
                 "url": "/w/ws1/c/ch-ops/m/12", "channel_id": "ch-ops", "seq": 12},
                {"tag": "ch-dev", "title": "confab", "body": "New message from Cy in #dev",
                 "url": "/w/ws1/c/ch-dev/m/4", "channel_id": "ch-dev", "seq": 4},
            ],
            "clear": ["ch-read"],
        })
    );
    // Another browser's keys cannot read it.
    assert!(subscription().decrypt(&request.body).is_err());

    let claims = vapid_claims(&request, &vapid);
    assert_eq!(claims["aud"], receiver.url.as_str());
    assert_eq!(claims["sub"], CONTACT);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
}

#[tokio::test]
async fn withdrawing_only_is_a_normal_urgency_push() {
    let mut receiver = Receiver::start(StatusCode::CREATED).await;
    let sink = sink(VapidKeys::generate().expect("vapid keys"), 1);
    let browser = subscription();
    let d = digest(None, vec![], vec!["ch-ops".into()]);
    within(sink.deliver(&d, &[browser.target("s", &receiver.url)]))
        .await
        .expect("delivered");
    let request = receiver.next().await;
    assert_eq!(request.header("urgency"), "normal");
    let payload: Value =
        serde_json::from_slice(&browser.decrypt(&request.body).expect("decrypts")).expect("json");
    assert_eq!(payload, json!({"notifications": [], "clear": ["ch-ops"]}));
}

#[tokio::test]
async fn unsubscribed_browsers_are_reported_gone() {
    let mut gone = Receiver::start(StatusCode::GONE).await;
    let mut live = Receiver::start(StatusCode::CREATED).await;
    let sink = sink(VapidKeys::generate().expect("vapid keys"), 4);
    let broken = PushTarget {
        id: "sub-broken".into(),
        endpoint: format!("{}/never", live.url),
        p256dh: "not a key".into(),
        auth: "AAAA".into(),
    };
    let targets = [
        subscription().target("sub-gone", &gone.url),
        subscription().target("sub-live", &live.url),
        broken,
    ];
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );

    let delivered = within(sink.deliver(&d, &targets)).await.expect("delivered");
    assert_eq!(delivered.gone, ["sub-gone", "sub-broken"]);
    gone.next().await;
    assert_eq!(live.next().await.path, "/");
}

#[tokio::test]
async fn push_service_errors_are_retried_and_refusals_are_not() {
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );
    let sink = sink(VapidKeys::generate().expect("vapid keys"), 4);
    for (status, retry) in [
        (StatusCode::SERVICE_UNAVAILABLE, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::BAD_REQUEST, false),
        (StatusCode::FORBIDDEN, false),
    ] {
        let mut receiver = Receiver::start(status).await;
        let result = within(sink.deliver(&d, &[subscription().target("s", &receiver.url)])).await;
        receiver.next().await;
        match result {
            Err(SinkError::Retry(_)) if retry => {}
            Err(SinkError::Permanent(_)) if !retry => {}
            other => panic!("{status}: {other:?}"),
        }
    }

    // One device refusing does not fail the others' delivery; one needing a retry does.
    let mut refusing = Receiver::start(StatusCode::BAD_REQUEST).await;
    let mut live = Receiver::start(StatusCode::CREATED).await;
    let targets = [
        subscription().target("refusing", &refusing.url),
        subscription().target("live", &live.url),
    ];
    assert!(within(sink.deliver(&d, &targets)).await.is_ok());
    refusing.next().await;
    live.next().await;

    let port = confab_testkit::free_port().expect("a free port");
    let targets = [
        subscription().target("down", &format!("http://127.0.0.1:{port}/")),
        subscription().target("live", &live.url),
    ];
    let result = within(sink.deliver(&d, &targets)).await;
    assert!(matches!(result, Err(SinkError::Retry(_))), "{result:?}");
    live.next().await;
}

#[tokio::test]
async fn keeps_to_its_concurrency_limit() {
    let gate = Arc::new(Semaphore::new(0));
    let mut receiver = Receiver::start_gated(StatusCode::CREATED, Some(gate.clone())).await;
    let sink = Arc::new(
        WebPushSink::new(
            VapidKeys::generate().expect("vapid keys"),
            CONTACT,
            60,
            2,
            Duration::from_secs(20),
        )
        .expect("push sink"),
    );
    let targets: Vec<PushTarget> = (0..5)
        .map(|i| subscription().target(&format!("s{i}"), &format!("{}/{i}", receiver.url)))
        .collect();
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );
    let delivery = tokio::spawn({
        let sink = sink.clone();
        async move { sink.deliver(&d, &targets).await }
    });

    // Two arrive together, then one more each time one is answered.
    receiver.next().await;
    receiver.next().await;
    for _ in 0..3 {
        gate.add_permits(1);
        receiver.next().await;
    }
    gate.add_permits(2);
    within(delivery)
        .await
        .expect("delivery task")
        .expect("delivered");
    assert_eq!(receiver.most_held(), 2);
}

/// Endpoints are users' words: a sink that takes only public ones makes an endpoint inside
/// (an address literal here; a name resolving inside is refused by its resolver) gone,
/// without a request.
#[tokio::test]
async fn a_public_only_sink_forgets_endpoints_inside_without_a_request() {
    let mut receiver = Receiver::start(StatusCode::CREATED).await;
    let vapid = VapidKeys::generate().expect("vapid keys");
    let public = sink(vapid.clone(), 1)
        .only_public_endpoints()
        .expect("a public-only sink");
    let d = digest(
        None,
        vec![item("ch-ops", "#ops", "Ada", Some("hi"), 1)],
        vec![],
    );
    let inside = subscription().target("inside", &format!("{}/inside", receiver.url));
    let delivered = within(public.deliver(&d, &[inside]))
        .await
        .expect("settled");
    assert_eq!(delivered.gone, vec!["inside".to_owned()]);
    // Nothing reached the receiver: the next request it sees is this one.
    let allowed = subscription().target("allowed", &format!("{}/allowed", receiver.url));
    within(sink(vapid, 1).deliver(&d, &[allowed]))
        .await
        .expect("delivered");
    assert_eq!(receiver.next().await.path, "/allowed");
}
