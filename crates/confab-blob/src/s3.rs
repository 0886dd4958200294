//! Blobs in an S3-compatible object store. Every request, confab's own and the client's
//! direct upload alike, goes by a SigV4 presigned URL from `aws-sigv4` (AWS's own signer).
//! An upload URL signs `content-length`, so the store refuses a body of any other size;
//! `object_store`'s signer cannot (it reserves that header), which is why it is not used.
//! Objects are addressed path-style: `{endpoint}/{bucket}/{folder}/{file id}`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use futures_util::StreamExt;

use crate::{BlobError, BlobKey, BlobResult, BlobStore, ByteStream, at_most};

/// How long the URLs of confab's own requests are valid.
const OWN_REQUEST_TTL: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
pub struct S3Config {
    /// `https://s3.{region}.amazonaws.com` by default; any S3-compatible server's URL.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl S3Config {
    /// The endpoint requests go to: `endpoint`, else AWS's for `region`.
    pub fn endpoint_for(region: &str, endpoint: Option<&str>) -> String {
        endpoint.map_or_else(
            || format!("https://s3.{region}.amazonaws.com"),
            str::to_owned,
        )
    }

    /// Credentials from the usual AWS environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`).
    pub fn from_env(bucket: String, region: String, endpoint: Option<String>) -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(Self {
            endpoint: Self::endpoint_for(&region, endpoint.as_deref()),
            bucket,
            region,
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }
}

pub struct S3Blobs {
    config: S3Config,
    http: reqwest::Client,
}

impl S3Blobs {
    pub fn new(config: S3Config) -> BlobResult<Self> {
        url::Url::parse(&config.endpoint)
            .map_err(|e| BlobError::Signing(format!("s3_endpoint: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| BlobError::Signing(e.to_string()))?;
        Ok(Self { config, http })
    }

    /// A presigned URL for `method` on `key`, signing `headers` (which the request must then
    /// carry with exactly these values).
    fn presign(
        &self,
        method: &str,
        key: &BlobKey,
        headers: &[(&str, String)],
        ttl: Duration,
    ) -> BlobResult<String> {
        let base = format!(
            "{}/{}/{}",
            self.config.endpoint.trim_end_matches('/'),
            self.config.bucket,
            key.name()
        );
        let identity = Credentials::new(
            &self.config.access_key_id,
            &self.config.secret_access_key,
            self.config.session_token.clone(),
            None,
            "confab",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(ttl);
        // S3 encodes and normalises paths once, unlike the other services.
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| BlobError::Signing(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            method,
            &base,
            headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| BlobError::Signing(e.to_string()))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| BlobError::Signing(e.to_string()))?
            .into_parts();
        let mut url =
            url::Url::parse(&base).map_err(|e| BlobError::Signing(format!("object url: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in instructions.params() {
                query.append_pair(name, value);
            }
        }
        Ok(url.into())
    }

    async fn send(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> BlobResult<reqwest::Response> {
        request
            .send()
            .await
            .map_err(|source| BlobError::Unreachable { what, source })
    }
}

fn unexpected(what: &'static str, response: &reqwest::Response) -> BlobError {
    BlobError::Backend {
        what,
        status: response.status().as_u16(),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &BlobKey, size: u64, body: ByteStream) -> BlobResult<()> {
        let url = self.presign(
            "PUT",
            key,
            &[("content-length", size.to_string())],
            OWN_REQUEST_TTL,
        )?;
        let body = reqwest::Body::wrap_stream(at_most(body, size));
        let response = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body)
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(unexpected("storing an object", &r)),
            // The body stream's own error (too many bytes, or fewer) surfaces as a send error.
            Err(source) => Err(BlobError::Unreachable {
                what: "storing an object",
                source,
            }),
        }
    }

    async fn get(&self, key: &BlobKey) -> BlobResult<Option<(u64, ByteStream)>> {
        let url = self.presign("GET", key, &[], OWN_REQUEST_TTL)?;
        let response = self.send("reading an object", self.http.get(url)).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(unexpected("reading an object", &response));
        }
        let size = response.content_length().unwrap_or(0);
        let stream = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        Ok(Some((size, Box::pin(stream))))
    }

    async fn read_prefix(&self, key: &BlobKey, n: usize) -> BlobResult<Option<Vec<u8>>> {
        let url = self.presign("GET", key, &[], OWN_REQUEST_TTL)?;
        let request = self
            .http
            .get(url)
            .header(reqwest::header::RANGE, format!("bytes=0-{}", n.max(1) - 1));
        let response = self.send("reading an object", request).await?;
        match response.status().as_u16() {
            404 => return Ok(None),
            416 => return Ok(Some(Vec::new())),
            s if (200..300).contains(&s) => {}
            _ => return Err(unexpected("reading an object", &response)),
        }
        let mut prefix = Vec::with_capacity(n);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| BlobError::Unreachable {
                what: "reading an object",
                source,
            })?;
            let room = n - prefix.len();
            prefix.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if prefix.len() == n {
                break;
            }
        }
        Ok(Some(prefix))
    }

    async fn size(&self, key: &BlobKey) -> BlobResult<Option<u64>> {
        let url = self.presign("HEAD", key, &[], OWN_REQUEST_TTL)?;
        let response = self.send("checking an object", self.http.head(url)).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(unexpected("checking an object", &response));
        }
        // A HEAD has no body, so reqwest's own length is 0: read the header.
        let size = response
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or(BlobError::Backend {
                what: "checking an object (no length)",
                status: response.status().as_u16(),
            })?;
        Ok(Some(size))
    }

    async fn rename(&self, from: &BlobKey, to: &BlobKey) -> BlobResult<()> {
        // S3 has no rename: a server-side copy, then the original goes.
        let source = format!("/{}/{}", self.config.bucket, from.name());
        let url = self.presign(
            "PUT",
            to,
            &[("x-amz-copy-source", source.clone())],
            OWN_REQUEST_TTL,
        )?;
        let request = self
            .http
            .put(url)
            .header("x-amz-copy-source", source)
            .header(reqwest::header::CONTENT_LENGTH, 0);
        let response = self.send("copying an object", request).await?;
        match response.status().as_u16() {
            404 => return Err(BlobError::NotFound),
            s if (200..300).contains(&s) => {}
            _ => return Err(unexpected("copying an object", &response)),
        }
        self.delete(from).await
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        let url = self.presign("DELETE", key, &[], OWN_REQUEST_TTL)?;
        let response = self
            .send("removing an object", self.http.delete(url))
            .await?;
        if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(unexpected("removing an object", &response))
        }
    }

    fn takes_direct_uploads(&self) -> bool {
        true
    }

    fn direct_upload(&self, key: &BlobKey, size: u64, ttl: Duration) -> BlobResult<Option<String>> {
        self.presign("PUT", key, &[("content-length", size.to_string())], ttl)
            .map(Some)
    }

    async fn clean_partial(&self, _: Duration) -> BlobResult<u64> {
        // An S3 PUT stores the whole object or nothing.
        Ok(0)
    }
}
