//! The rich error model of the contract, as one Rust error type.
//!
//! A server reports every failure as a `google.rpc.Status` with one
//! `google.rpc.ErrorInfo` (domain `openenv.v1`, a stable `reason`, some
//! metadata), and a `RetryInfo` where a retry later makes sense: in the
//! `grpc-status-details-bin` trailer of a failed unary call, in-band in
//! `StepStreamResponse.error` on a stream. [`Error`] is built from either,
//! so callers match reasons the same way on both paths:
//!
//! ```
//! # use openenv_grpc::{Error, v1::ErrorReason};
//! # fn handle(err: Error) {
//! if err.is(ErrorReason::EpisodeEnded) {
//!     // reset, then go on
//! } else if err.reason() == "STEP_OUT_OF_ORDER" {
//!     let server_count = err.metadata().get("step_count");
//! }
//! # }
//! ```
//!
//! Match on the reason, never on the message (English, for people).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use tonic::Code;
use tonic_types::{ErrorDetails, RpcStatusExt, StatusExt};

use crate::tensor::TensorError;
use crate::v1::ErrorReason;

/// `ErrorInfo.domain` of every error a server of this contract sends.
pub const ERROR_DOMAIN: &str = "openenv.v1";

const REASON_PREFIX: &str = "ERROR_REASON_";

/// A failed call or request: gRPC code and message, plus the reason and
/// metadata of the server's `ErrorInfo` (empty when it sent none, as for
/// errors raised on this side: a deadline, an unreachable server).
///
/// Boxed inside, so a `Result<T, Error>` stays as small as its `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    code: Code,
    message: String,
    reason: String,
    domain: String,
    metadata: HashMap<String, String>,
    retry_delay: Option<Duration>,
}

impl Error {
    /// An error raised on this side, with no reason.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            code,
            message: message.into(),
            reason: String::new(),
            domain: String::new(),
            metadata: HashMap::new(),
            retry_delay: None,
        }))
    }

    /// An error found on this side that a server would report with `reason`.
    pub(crate) fn local(code: Code, reason: ErrorReason, message: impl Into<String>) -> Self {
        let mut error = Self::new(code, message);
        error.0.reason = reason.reason_name().to_owned();
        error.0.domain = ERROR_DOMAIN.to_owned();
        error
    }

    pub(crate) fn with_metadata(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.insert(key.to_owned(), value.to_owned());
        self
    }

    /// The error a failed unary call (or a stream that ended badly) carries:
    /// details from its `grpc-status-details-bin` trailer.
    pub fn from_status(status: &tonic::Status) -> Self {
        // A status tonic made itself (the connection failed) keeps its cause
        // in `source`: "transport error" alone says nothing.
        let message = with_causes(
            status.message().to_owned(),
            std::error::Error::source(status),
        );
        Self::new(status.code(), message).with_details(status.get_error_details())
    }

    /// The error of an in-band `google.rpc.Status` (`StepStreamResponse.error`).
    pub fn from_rpc_status(status: &tonic_types::Status) -> Self {
        Self::new(Code::from_i32(status.code), status.message.clone())
            .with_details(status.get_error_details())
    }

    fn with_details(mut self, details: ErrorDetails) -> Self {
        if let Some(info) = details.error_info() {
            self.0.reason.clone_from(&info.reason);
            self.0.domain.clone_from(&info.domain);
            self.0.metadata.clone_from(&info.metadata);
        }
        self.0.retry_delay = details.retry_info().and_then(|r| r.retry_delay);
        self
    }

    /// The gRPC status code.
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The message, for people: never match on it.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The `ErrorInfo.reason`, an `ErrorReason` name without its
    /// `ERROR_REASON_` prefix (`"SESSION_NOT_FOUND"`); empty when none came.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The `ErrorInfo.domain` (`"openenv.v1"` from a server of this contract).
    pub fn domain(&self) -> &str {
        &self.0.domain
    }

    /// The `ErrorInfo.metadata`: the keys each reason documents in errors.proto.
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.0.metadata
    }

    /// How long to wait before retrying, when the server said (`RetryInfo`).
    pub fn retry_delay(&self) -> Option<Duration> {
        self.0.retry_delay
    }

    /// The reason as the enum, when it is one this client knows (a newer
    /// server may send others: treat those by their code).
    pub fn error_reason(&self) -> Option<ErrorReason> {
        if self.0.reason.is_empty() || self.0.domain != ERROR_DOMAIN {
            return None;
        }
        ErrorReason::from_str_name(&format!("{REASON_PREFIX}{}", self.0.reason))
    }

    /// Whether this error has the given reason.
    pub fn is(&self, reason: ErrorReason) -> bool {
        self.error_reason() == Some(reason)
    }
}

impl ErrorReason {
    /// The name servers put in `ErrorInfo.reason`: the enum value's name
    /// without `ERROR_REASON_` (`"SESSION_NOT_FOUND"`).
    pub fn reason_name(&self) -> &'static str {
        self.as_str_name().trim_start_matches(REASON_PREFIX)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.code)?;
        if !self.0.reason.is_empty() {
            write!(f, " ({})", self.0.reason)?;
        }
        write!(f, ": {}", self.0.message)
    }
}

impl std::error::Error for Error {}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Self::from_status(&status)
    }
}

impl From<tonic_types::Status> for Error {
    fn from(status: tonic_types::Status) -> Self {
        Self::from_rpc_status(&status)
    }
}

impl From<tonic::transport::Error> for Error {
    fn from(err: tonic::transport::Error) -> Self {
        let message = with_causes(err.to_string(), std::error::Error::source(&err));
        Self::new(Code::Unavailable, message)
    }
}

/// A tensor this side could not encode or decode: the server's
/// `INVALID_VALUE`, found before sending (or after receiving).
/// `message`, then each cause it does not already say.
fn with_causes(
    mut message: String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message = format!("{message}: {cause_text}");
        }
        source = cause.source();
    }
    message
}

impl From<TensorError> for Error {
    fn from(err: TensorError) -> Self {
        Self::local(
            Code::InvalidArgument,
            ErrorReason::InvalidValue,
            err.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use tonic_types::pb;

    /// What a server sends for STEP_OUT_OF_ORDER, built by hand as bytes on the wire.
    fn crafted_status() -> pb::Status {
        let info = pb::ErrorInfo {
            reason: "STEP_OUT_OF_ORDER".into(),
            domain: ERROR_DOMAIN.into(),
            metadata: [
                ("step_index".to_owned(), "5".to_owned()),
                ("step_count".to_owned(), "0".to_owned()),
            ]
            .into(),
        };
        let retry = pb::RetryInfo {
            retry_delay: Some(prost_types::Duration {
                seconds: 2,
                nanos: 0,
            }),
        };
        pb::Status {
            code: Code::Aborted as i32,
            message: "step 5 is out of order".into(),
            details: vec![
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.ErrorInfo".into(),
                    value: info.encode_to_vec(),
                },
                prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
                    value: retry.encode_to_vec(),
                },
            ],
        }
    }

    fn assert_out_of_order(err: &Error) {
        assert_eq!(err.code(), Code::Aborted);
        assert_eq!(err.message(), "step 5 is out of order");
        assert_eq!(err.reason(), "STEP_OUT_OF_ORDER");
        assert_eq!(err.domain(), ERROR_DOMAIN);
        assert_eq!(err.metadata()["step_count"], "0");
        assert_eq!(err.metadata()["step_index"], "5");
        assert_eq!(err.retry_delay(), Some(Duration::from_secs(2)));
        assert!(err.is(ErrorReason::StepOutOfOrder));
        assert_eq!(
            err.to_string(),
            "Aborted (STEP_OUT_OF_ORDER): step 5 is out of order"
        );
    }

    #[test]
    fn reads_an_in_band_status() {
        assert_out_of_order(&Error::from(crafted_status()));
    }

    #[test]
    fn reads_the_trailer_of_a_unary_call() {
        // Through real trailers: grpc-status, grpc-message, grpc-status-details-bin (base64).
        let sent = tonic::Status::with_details(
            Code::Aborted,
            "step 5 is out of order",
            crafted_status().encode_to_vec().into(),
        );
        let mut trailers = tonic::metadata::MetadataMap::new().into_headers();
        sent.add_header(&mut trailers).unwrap();
        assert!(trailers.contains_key("grpc-status-details-bin"));
        let received = tonic::Status::from_header_map(&trailers).unwrap();
        assert_out_of_order(&Error::from(received));
    }

    #[test]
    fn an_error_without_details_has_no_reason() {
        let err = Error::from(tonic::Status::deadline_exceeded("too slow"));
        assert_eq!(err.code(), Code::DeadlineExceeded);
        assert_eq!(err.reason(), "");
        assert!(err.metadata().is_empty());
        assert_eq!(err.error_reason(), None);
    }

    #[test]
    fn unknown_reasons_keep_their_name() {
        let mut status = crafted_status();
        let info = pb::ErrorInfo {
            reason: "FROM_THE_FUTURE".into(),
            domain: ERROR_DOMAIN.into(),
            ..Default::default()
        };
        status.details = vec![prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.ErrorInfo".into(),
            value: info.encode_to_vec(),
        }];
        let err = Error::from(status);
        assert_eq!(err.reason(), "FROM_THE_FUTURE");
        assert_eq!(err.error_reason(), None);
    }

    #[test]
    fn reason_names_drop_the_prefix() {
        assert_eq!(
            ErrorReason::SessionNotFound.reason_name(),
            "SESSION_NOT_FOUND"
        );
        assert_eq!(
            ErrorReason::SubEnvsInFlight.reason_name(),
            "SUB_ENVS_IN_FLIGHT"
        );
    }
}
