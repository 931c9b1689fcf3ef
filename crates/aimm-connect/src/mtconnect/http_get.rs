//! Plain HTTP GET for the MTConnect client and tests (hyper's client: the agent side already
//! builds on hyper, so this adds no new stack). Every error names the URL.

use super::MtcError;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// A reusable HTTP/1.1 client (keeps connections alive between polls).
#[derive(Clone)]
pub struct HttpGet {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
    bearer: Option<String>,
}

impl Default for HttpGet {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl HttpGet {
    /// A client giving up on a request (connect, headers and body) after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            timeout,
            bearer: None,
        }
    }

    /// The same client sending `Authorization: Bearer <token>` with every request.
    pub fn with_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_string());
        self
    }

    /// GETs `url`; returns the status code and the body as text.
    pub async fn get(&self, url: &str) -> Result<(u16, String), MtcError> {
        let err = |message: String| MtcError::Http {
            url: url.to_string(),
            message,
        };
        let uri: hyper::Uri = url.parse().map_err(|e| err(format!("bad URL: {e}")))?;
        let fetch = async {
            let mut request = hyper::Request::get(uri);
            if let Some(token) = &self.bearer {
                request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let request = request
                .body(Empty::new())
                .map_err(|e| err(format!("bad request: {e}")))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| err(describe(&e)))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| err(format!("reading the body: {e}")))?
                .to_bytes();
            let text = String::from_utf8(body.to_vec())
                .map_err(|e| err(format!("body is not UTF-8: {e}")))?;
            Ok((status, text))
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| err(format!("no answer within {} s", self.timeout.as_secs())))?
    }
}

/// An error with its chain of causes (hyper's top-level messages say little on their own).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
