//! Rust client of the OpenEnv environment protocol, `openenv.v1` over gRPC.
//!
//! [`v1`] is generated from `proto/openenv/v1/*.proto` (messages and the
//! tonic `EnvServiceClient`) and never edited by hand. Beside it, a thin
//! layer that earns its keep:
//!
//! * [`Client`]: unary calls with the contract's headers (protocol version,
//!   `openenv-session-id` for L7 routing), deadlines, and errors as [`Error`];
//!   with [`Credentials`], TLS (mutual too) and a bearer token on every call;
//! * [`Session`]: one session over one `StepStream`, tracking `seq` and
//!   `step_index` so every step is safe to retry;
//! * [`Error`]: gRPC code, message and the `ErrorInfo` reason and metadata,
//!   read the same way from a unary call's trailer and from a stream's
//!   in-band `google.rpc.Status`;
//! * tensors to and from native vectors ([`Element`], [`TensorData`]), and
//!   conversions into [`v1::Value`].
//!
//! ```no_run
//! use openenv_grpc::{Client, Session, v1::ResetRequest};
//!
//! # async fn run() -> Result<(), openenv_grpc::Error> {
//! let client = Client::connect("localhost:50051").await?;
//! let (mut session, first) = Session::create(&client, ResetRequest::new_session().with_seed(42)).await?;
//! let step = session.step(1i64).await?;
//! println!("{:?} -> reward {}", first.observation, step.reward);
//! session.close().await
//! # }
//! ```

mod client;
mod credentials;
mod error;
mod f16;
mod requests;
mod session;
mod tensor;
mod value;

/// The generated `openenv.v1` package: messages, enums and
/// `env_service_client::EnvServiceClient`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!("../generated/openenv.v1.rs");
}

pub use client::{
    Client, DEFAULT_MAX_MESSAGE_BYTES, GeneratedClient, PROTOCOL_HEADER, PROTOCOL_VERSION,
    SESSION_HEADER,
};
pub use credentials::{AUTHORIZATION_HEADER, BearerToken, Credentials};
pub use error::{ERROR_DOMAIN, Error};
pub use f16::{f16_bits_to_f32, f32_to_f16_bits};
pub use requests::new_request_id;
pub use session::Session;
pub use tensor::{Element, TensorData, TensorError};

/// The gRPC status code of an [`Error`], as tonic defines it.
pub use tonic::Code;

/// `google.rpc` types of the error model, as tonic-types ships them.
pub use tonic_types::pb as rpc;

/// The examples of this crate's README, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The examples of the user docs (docs/clients/rust.md), compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/clients/rust.md")]
struct UserDocDoctests;
