//! Where notifications go, from configuration: Web Push (on unless `web_push = false`; the
//! VAPID key from `vapid_private_key`, else made once and kept in the data directory), email
//! when `smtp_url` is set, the signed webhook when `notify_webhook_url` is.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use confab_chat::NotifySinks;
use confab_notify::{EmailSink, Sink, VapidKeys, WebPushSink, WebhookSink};

use crate::config::Config;

/// How long a push service keeps a notification for a browser that is offline.
const PUSH_TTL_SECS: u32 = 24 * 3600;

pub async fn sinks(config: &Config) -> anyhow::Result<NotifySinks> {
    let timeout = Duration::from_millis(config.notify_sink_timeout_ms);
    let concurrency = config.notify_sink_concurrency;
    // Links in emails and webhooks point here.
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen))
        .trim_end_matches('/')
        .to_owned();
    let mut sinks = NotifySinks::default();
    if config.web_push {
        let keys = match &config.vapid_private_key {
            Some(key) => VapidKeys::from_private_base64url(key)
                .map_err(|e| anyhow::anyhow!("vapid_private_key: {e}"))?,
            None => {
                let path = config.data_dir.join("vapid.key");
                tokio::fs::create_dir_all(&config.data_dir)
                    .await
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                tokio::task::spawn_blocking(move || VapidKeys::load_or_create(&path))
                    .await?
                    .map_err(|e| anyhow::anyhow!("the VAPID key: {e}"))?
            }
        };
        sinks.vapid_public_key = Some(keys.public_key_base64url());
        let push = WebPushSink::new(
            keys,
            config.vapid_contact.clone(),
            PUSH_TTL_SECS,
            concurrency,
            timeout,
        )
        .map_err(|e| anyhow::anyhow!("Web Push: {e}"))?;
        let push = if config.notify_push_allow_insecure {
            push
        } else {
            push.only_public_endpoints()
                .map_err(|e| anyhow::anyhow!("Web Push: {e}"))?
        };
        sinks.push = Some(Arc::new(push) as Arc<dyn Sink>);
    }
    if let Some(url) = &config.smtp_url {
        let email = EmailSink::new(
            url,
            &config.smtp_from,
            public_url.clone(),
            concurrency,
            timeout,
        )
        .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?;
        sinks.email = Some(Arc::new(email) as Arc<dyn Sink>);
    }
    if let Some(url) = &config.notify_webhook_url {
        let secret = config
            .notify_webhook_secret
            .clone()
            .context("notify_webhook_url needs notify_webhook_secret")?;
        let hook = WebhookSink::new(url, secret.into_bytes(), public_url, concurrency, timeout)
            .map_err(|e| anyhow::anyhow!("notify_webhook_url: {e}"))?;
        sinks.webhook = Some(Arc::new(hook) as Arc<dyn Sink>);
    }
    Ok(sinks)
}
