//! Unary calls of `EnvService` with what the contract asks of a client.
//!
//! Every call carries the `openenv-protocol-version` header; a call that
//! names a session also carries `openenv-session-id`, so an L7 load
//! balancer can keep a session's calls on its backend. A deadline set with
//! [`Client::with_timeout`] goes to the server as `grpc-timeout` and fails
//! the call here with `DEADLINE_EXCEEDED` (tonic itself reports its own
//! timer as `CANCELLED`). Every failure comes back as [`Error`].
//! [`Client::connect_with`] adds TLS and a bearer token ([`Credentials`]);
//! the token rides an interceptor, so streams carry it too.

use std::future::Future;
use std::time::{Duration, Instant};

use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::Error;
use crate::credentials::{BearerToken, Credentials};
use crate::session::Session;
use crate::v1::env_service_client::EnvServiceClient;
use crate::v1::{
    CloseSessionRequest, DescribeRequest, DescribeResponse, ErrorReason, ResetBatchRequest,
    ResetBatchResponse, ResetRequest, ResetResponse, StateRequest, StateResponse, StepBatchRequest,
    StepBatchResponse, StepRequest, StepResponse, reset_batch_request, reset_request,
};

/// The protocol version this client speaks, "MAJOR.MINOR".
pub const PROTOCOL_VERSION: &str = "1.1";
/// The request header that carries [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "openenv-protocol-version";
/// The request header that names the session a unary call is about.
pub const SESSION_HEADER: &str = "openenv-session-id";
/// The largest message sent or received, as the Python server's default.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The generated client as [`Client`] holds it: over one channel, with the
/// interceptor that sends the token.
pub type GeneratedClient = EnvServiceClient<InterceptedService<Channel, BearerToken>>;

/// A connection to one `EnvService` server. Cheap to clone; clones share
/// the connection.
#[derive(Debug, Clone)]
pub struct Client {
    inner: GeneratedClient,
    timeout: Option<Duration>,
}

impl Client {
    /// Connects to `address` in plaintext: `host:port`, or a URI such as
    /// `http://host:port`.
    pub async fn connect(address: &str) -> Result<Self, Error> {
        Self::connect_with(address, &Credentials::new()).await
    }

    /// Connects to `address` with TLS when `credentials` names a CA file
    /// (`host:port` then means `https://host:port`; the server's certificate
    /// must name that host), sending its token, if any, on every call.
    pub async fn connect_with(address: &str, credentials: &Credentials) -> Result<Self, Error> {
        let tls = credentials.tls_config()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let uri = if address.contains("://") {
            address.to_owned()
        } else {
            format!("{scheme}://{address}")
        };
        let bad_address = |why: String| {
            Error::new(
                Code::InvalidArgument,
                format!("bad address {address:?}: {why}"),
            )
        };
        if tls.is_some() && !uri.starts_with("https://") {
            return Err(bad_address(
                "TLS needs an https:// address (or host:port)".into(),
            ));
        }
        let mut endpoint = Endpoint::from_shared(uri).map_err(|e| bad_address(e.to_string()))?;
        if let Some(tls) = tls {
            endpoint = endpoint.tls_config(tls)?;
        }
        let token = credentials.bearer_token()?;
        Ok(Self::with_interceptor(endpoint.connect().await?, token))
    }

    /// A client over a channel made elsewhere (a custom endpoint), without a token.
    pub fn from_channel(channel: Channel) -> Self {
        Self::with_interceptor(channel, BearerToken::default())
    }

    fn with_interceptor(channel: Channel, token: BearerToken) -> Self {
        let inner = EnvServiceClient::with_interceptor(channel, token)
            .max_decoding_message_size(DEFAULT_MAX_MESSAGE_BYTES)
            .max_encoding_message_size(DEFAULT_MAX_MESSAGE_BYTES);
        Self {
            inner,
            timeout: None,
        }
    }

    /// The same connection, with `timeout` as the deadline of each unary call.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            inner: self.inner.clone(),
            timeout: Some(timeout),
        }
    }

    /// The generated client, for calls this layer does not wrap; build its
    /// requests with [`Client::request`] to send the same headers.
    pub fn generated(&self) -> GeneratedClient {
        self.inner.clone()
    }

    /// A request with the contract's headers (and `session_id`'s, unless
    /// empty) and this client's deadline.
    pub fn request<T>(&self, message: T, session_id: &str) -> tonic::Request<T> {
        let mut request = self.stream_request(message);
        if let (false, Ok(value)) = (session_id.is_empty(), session_id.parse()) {
            request.metadata_mut().insert(SESSION_HEADER, value);
        }
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    /// A request with the protocol header only: a stream has no per-call
    /// deadline and needs no routing header.
    pub(crate) fn stream_request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert(
            PROTOCOL_HEADER,
            MetadataValue::from_static(PROTOCOL_VERSION),
        );
        request
    }

    async fn call<T, R, F, Fut>(&self, message: T, session_id: &str, method: F) -> Result<R, Error>
    where
        F: FnOnce(GeneratedClient, tonic::Request<T>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        let started = Instant::now();
        match method(self.inner.clone(), self.request(message, session_id)).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(match self.timeout {
                Some(timeout)
                    if status.code() == Code::Cancelled && started.elapsed() >= timeout =>
                {
                    Error::new(
                        Code::DeadlineExceeded,
                        format!("deadline of {timeout:?} exceeded"),
                    )
                }
                _ => Error::from(status),
            }),
        }
    }

    /// The environment's spec. Fails with FAILED_PRECONDITION
    /// (`PROTOCOL_MISMATCH`) when the server speaks another MAJOR version.
    pub async fn describe(&self) -> Result<DescribeResponse, Error> {
        let spec = self
            .call(DescribeRequest {}, "", |mut c, r| async move {
                c.describe(r).await
            })
            .await?;
        check_protocol(&spec.protocol_version)?;
        Ok(spec)
    }

    /// Starts an episode: of a new session (`ResetRequest::new_session()`)
    /// or of an existing one (`ResetRequest::of_session(id)`).
    pub async fn reset(&self, request: ResetRequest) -> Result<ResetResponse, Error> {
        let session_id = match &request.session {
            Some(reset_request::Session::SessionId(id)) => id.clone(),
            _ => String::new(),
        };
        self.call(
            request,
            &session_id,
            |mut c, r| async move { c.reset(r).await },
        )
        .await
    }

    /// Applies one action; set `step_index` so a retry is never applied twice.
    pub async fn step(&self, request: StepRequest) -> Result<StepResponse, Error> {
        let session_id = request.session_id.clone();
        self.call(
            request,
            &session_id,
            |mut c, r| async move { c.step(r).await },
        )
        .await
    }

    /// Resets sub-envs of a batched session, creating it first with
    /// `ResetBatchRequest::new_session(n)`.
    pub async fn reset_batch(
        &self,
        request: ResetBatchRequest,
    ) -> Result<ResetBatchResponse, Error> {
        let session_id = match &request.session {
            Some(reset_batch_request::Session::SessionId(id)) => id.clone(),
            _ => String::new(),
        };
        self.call(request, &session_id, |mut c, r| async move {
            c.reset_batch(r).await
        })
        .await
    }

    /// Steps sub-envs of a batched session together.
    pub async fn step_batch(&self, request: StepBatchRequest) -> Result<StepBatchResponse, Error> {
        let session_id = request.session_id.clone();
        self.call(request, &session_id, |mut c, r| async move {
            c.step_batch(r).await
        })
        .await
    }

    /// Where a session stands.
    pub async fn state(&self, session_id: &str) -> Result<StateResponse, Error> {
        let request = StateRequest {
            session_id: session_id.to_owned(),
        };
        self.call(
            request,
            session_id,
            |mut c, r| async move { c.state(r).await },
        )
        .await
    }

    /// Closes a session and frees its environment.
    pub async fn close_session(&self, session_id: &str) -> Result<(), Error> {
        let request = CloseSessionRequest {
            session_id: session_id.to_owned(),
        };
        self.call(request, session_id, |mut c, r| async move {
            c.close_session(r).await
        })
        .await?;
        Ok(())
    }

    /// A new session on its own `StepStream`; see [`Session::create`].
    pub async fn session(&self, reset: ResetRequest) -> Result<(Session, ResetResponse), Error> {
        Session::create(self, reset).await
    }
}

/// Refuses a peer whose protocol MAJOR differs from ours.
fn check_protocol(remote: &str) -> Result<(), Error> {
    let major = |version: &str| version.split('.').next().unwrap_or_default().to_owned();
    if major(remote) == major(PROTOCOL_VERSION) {
        return Ok(());
    }
    let message = format!(
        "the server speaks openenv protocol {remote:?} but this client speaks {PROTOCOL_VERSION}; \
         upgrade the older side to the same major version"
    );
    Err(Error::local(
        Code::FailedPrecondition,
        ErrorReason::ProtocolMismatch,
        message,
    )
    .with_metadata("server_version", remote)
    .with_metadata("client_version", PROTOCOL_VERSION))
}

impl StepRequest {
    /// A step of `session_id` with `action`, meaning step `step_index` of
    /// the episode (1 for the first after a reset; 0 skips the check).
    pub fn new(
        session_id: impl Into<String>,
        action: impl Into<crate::v1::Value>,
        step_index: i64,
    ) -> Self {
        Self {
            session_id: session_id.into(),
            action: Some(action.into()),
            step_index,
        }
    }
}

impl StepBatchRequest {
    /// A batched step of `session_id`: one action per sub-env in `actions`
    /// (an int64 tensor for Discrete), meaning batched step `step_index`.
    pub fn new(
        session_id: impl Into<String>,
        actions: impl Into<crate::v1::Value>,
        step_index: i64,
    ) -> Self {
        Self {
            session_id: session_id.into(),
            actions: Some(actions.into()),
            step_index,
            env_ids: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_another_major_version() {
        assert!(check_protocol("1.0").is_ok());
        assert!(check_protocol("1.7").is_ok());
        let err = check_protocol("2.0").unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.is(ErrorReason::ProtocolMismatch));
        assert_eq!(err.metadata()["server_version"], "2.0");
    }

    #[tokio::test]
    async fn requests_carry_the_headers() {
        let channel = Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        let client = Client::from_channel(channel).with_timeout(Duration::from_millis(250));
        let request = client.request(StateRequest::default(), "abc");
        assert_eq!(
            request.metadata().get(PROTOCOL_HEADER).unwrap(),
            PROTOCOL_VERSION
        );
        assert_eq!(request.metadata().get(SESSION_HEADER).unwrap(), "abc");
        assert!(request.metadata().get("grpc-timeout").is_some());
        assert!(
            client
                .request((), "")
                .metadata()
                .get(SESSION_HEADER)
                .is_none()
        );
    }
}
