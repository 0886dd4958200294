//! Files in a fleet: on S3, with URL keys derived from the cluster secret, any chat service
//! completes and serves what any other was asked to store.

use serde_json::json;

use crate::fleet::{Backing, Fleet};
use crate::harness::s;

#[tokio::test]
async fn a_file_asked_of_one_chat_service_is_completed_and_served_by_the_other() {
    let s3 = confab_testkit::PrivateS3::start().expect("s3s-fs");
    let fleet = Fleet::start_with(
        2,
        0,
        Backing::shared(),
        vec![
            "--s3-bucket".into(),
            s3.bucket.into(),
            "--s3-endpoint".into(),
            s3.endpoint(),
        ],
        vec![
            ("AWS_ACCESS_KEY_ID".into(), s3.access_key.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), s3.secret_key.into()),
        ],
    )
    .await;
    let (one, other) = (&fleet.chats[0], &fleet.chats[1]);
    let ada = one.register("ada").await;
    let bob = one.register("bob").await;
    let (ws, general) = one.workspace(&ada, &[&bob]).await;
    let data: Vec<u8> = (0..300_000).map(|i| (i % 251) as u8).collect();
    let (status, ticket) = one
        .post(
            &ada.token,
            "/files",
            json!({"filename": "shared.bin", "size": data.len(), "content_type": "x/y", "workspace_id": ws}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let put = one
        .http
        .put(s(&ticket["upload_url"]))
        .body(data.clone())
        .send()
        .await
        .expect("put");
    assert_eq!(put.status().as_u16(), 200);
    let file = s(&ticket["file_id"]);
    // Completed and sent through the other chat service.
    let (status, sent) = other
        .post(
            &ada.token,
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": "f", "body": "", "file_ids": [file]}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    // A URL signed by one is honoured by the other.
    let (status, meta) = one.get(&bob.token, &format!("/files/{file}")).await;
    assert_eq!(status, 200, "{meta}");
    let url = s(&meta["download_url"]);
    for server in [one, other] {
        let got = server
            .http
            .get(format!("{}{url}", server.root()))
            .send()
            .await
            .expect("get");
        assert_eq!(got.status().as_u16(), 200);
        assert!(got.bytes().await.expect("bytes") == data);
    }
}
