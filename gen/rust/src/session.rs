//! One session over one `StepStream`: the fast path.
//!
//! A [`Session`] sends one request at a time and waits for its answer. It
//! numbers requests (`seq`) and checks each answer echoes its request's,
//! and it sends every step with the `step_index` it means (the last index
//! the server applied, plus one), so a step repeated after a lost answer is
//! never applied twice. A failed request comes back as [`Error`], read from
//! the answer's in-band `google.rpc.Status` exactly as a unary call's
//! trailer, and the session goes on; only when the stream itself ends badly
//! (its session closed elsewhere, the server stopping) does every later call
//! fail with that stream's error.
//!
//! A session the stream created is closed by the server when the stream
//! ends: call [`Session::close`] to end it cleanly (half-close, then read to
//! the end), or drop the session to cancel the stream.

use std::collections::BTreeMap;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

use crate::v1::step_stream_request::Request;
use crate::v1::step_stream_response::Response;
use crate::v1::{
    AttachRequest, NewSession, ResetBatchRequest, ResetBatchResponse, ResetRequest, ResetResponse,
    StateRequest, StateResponse, StepBatchRequest, StepBatchResponse, StepRequest, StepResponse,
    StepStreamRequest, StepStreamResponse, Value, reset_batch_request, reset_request,
};
use crate::{Client, Error, new_request_id};

/// One session driven over one bidirectional `StepStream`.
#[derive(Debug)]
pub struct Session {
    requests: mpsc::Sender<StepStreamRequest>,
    responses: tonic::Streaming<StepStreamResponse>,
    seq: u64,
    session_id: String,
    step_index: i64,
    ended: Option<Error>,
}

impl Session {
    /// Opens a stream whose first request creates a session and resets it
    /// (`reset.session` becomes a `new_session`, with a fresh `request_id`
    /// unless one is set). The stream owns the session.
    pub async fn create(
        client: &Client,
        mut reset: ResetRequest,
    ) -> Result<(Self, ResetResponse), Error> {
        match &mut reset.session {
            Some(reset_request::Session::NewSession(new)) if !new.request_id.is_empty() => {}
            _ => {
                reset.session = Some(reset_request::Session::NewSession(NewSession {
                    request_id: new_request_id(),
                    ..NewSession::default()
                }))
            }
        }
        let (mut session, answer) = Self::open(client, Request::ResetRequest(reset)).await?;
        let Response::ResetResponse(first) = answer else {
            return Err(unexpected("reset_response", &answer));
        };
        session.session_id.clone_from(&first.session_id);
        Ok((session, first))
    }

    /// Opens a stream whose first request creates a batched session and
    /// resets all its sub-envs (`reset` from `ResetBatchRequest::new_session(n)`).
    pub async fn create_batch(
        client: &Client,
        mut reset: ResetBatchRequest,
    ) -> Result<(Self, ResetBatchResponse), Error> {
        match &mut reset.session {
            Some(reset_batch_request::Session::NewSession(new)) if new.request_id.is_empty() => {
                new.request_id = new_request_id();
            }
            Some(reset_batch_request::Session::NewSession(_)) => {}
            _ => {
                return Err(Error::new(
                    Code::InvalidArgument,
                    "create_batch needs ResetBatchRequest::new_session",
                ));
            }
        }
        let (mut session, answer) = Self::open(client, Request::ResetBatchRequest(reset)).await?;
        let Response::ResetBatchResponse(first) = answer else {
            return Err(unexpected("reset_batch_response", &answer));
        };
        session.session_id.clone_from(&first.session_id);
        Ok((session, first))
    }

    /// Opens a stream bound to an existing session (made by a unary Reset or
    /// another stream); the session stays open when this stream ends.
    pub async fn attach(client: &Client, session_id: &str) -> Result<(Self, StateResponse), Error> {
        let request = Request::AttachRequest(AttachRequest {
            session_id: session_id.to_owned(),
        });
        let (mut session, answer) = Self::open(client, request).await?;
        let Response::AttachResponse(attached) = answer else {
            return Err(unexpected("attach_response", &answer));
        };
        let state = attached.state.unwrap_or_default();
        session.session_id = session_id.to_owned();
        session.step_index = state.step_count;
        Ok((session, state))
    }

    async fn open(client: &Client, first: Request) -> Result<(Self, Response), Error> {
        let (requests, receiver) = mpsc::channel(4);
        let first = StepStreamRequest {
            seq: 1,
            request: Some(first),
            trace_context: BTreeMap::new(),
        };
        requests
            .send(first)
            .await
            .expect("the receiver is still here");
        // No deadline: a stream lives as long as its session.
        let call = client
            .generated()
            .step_stream(client.stream_request(ReceiverStream::new(receiver)))
            .await?;
        let mut session = Self {
            requests,
            responses: call.into_inner(),
            seq: 1,
            session_id: String::new(),
            step_index: 0,
            ended: None,
        };
        let answer = session.receive().await?;
        Ok((session, answer))
    }

    /// The id of this stream's session.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The index of the last step the server applied in this episode (batched:
    /// batched steps since the last full reset); the next step sends it plus one.
    pub fn step_index(&self) -> i64 {
        self.step_index
    }

    /// Starts a new episode of the stream's session (`request.session` is
    /// ignored: a stream resets its own session).
    pub async fn reset(&mut self, mut request: ResetRequest) -> Result<ResetResponse, Error> {
        request.session = None;
        match self.call(Request::ResetRequest(request)).await? {
            Response::ResetResponse(reset) => {
                self.step_index = 0;
                Ok(reset)
            }
            other => Err(unexpected("reset_response", &other)),
        }
    }

    /// Applies `action` as the episode's next step.
    pub async fn step(&mut self, action: impl Into<Value>) -> Result<StepResponse, Error> {
        let next = self.step_index + 1;
        let request = StepRequest {
            session_id: String::new(),
            action: Some(action.into()),
            step_index: next,
        };
        match self.call(Request::StepRequest(request)).await? {
            Response::StepResponse(step) => {
                self.step_index = if step.step_index > 0 {
                    step.step_index
                } else {
                    next
                };
                Ok(step)
            }
            other => Err(unexpected("step_response", &other)),
        }
    }

    /// Resets sub-envs of the stream's batched session (`request.session` is
    /// ignored); resetting them all starts the batched step count again.
    pub async fn reset_batch(
        &mut self,
        mut request: ResetBatchRequest,
    ) -> Result<ResetBatchResponse, Error> {
        request.session = None;
        let full = request.env_ids.is_empty();
        match self.call(Request::ResetBatchRequest(request)).await? {
            Response::ResetBatchResponse(reset) => {
                if full {
                    self.step_index = 0;
                }
                Ok(reset)
            }
            other => Err(unexpected("reset_batch_response", &other)),
        }
    }

    /// Steps sub-envs of the stream's batched session together: `actions`
    /// holds one action per entry of `env_ids` (empty: every sub-env).
    pub async fn step_batch(
        &mut self,
        actions: impl Into<Value>,
        env_ids: Vec<i32>,
    ) -> Result<StepBatchResponse, Error> {
        let next = self.step_index + 1;
        let request = StepBatchRequest {
            session_id: String::new(),
            env_ids,
            actions: Some(actions.into()),
            step_index: next,
        };
        match self.call(Request::StepBatchRequest(request)).await? {
            Response::StepBatchResponse(step) => {
                self.step_index = if step.step_index > 0 {
                    step.step_index
                } else {
                    next
                };
                Ok(step)
            }
            other => Err(unexpected("step_batch_response", &other)),
        }
    }

    /// Where the session stands.
    pub async fn state(&mut self) -> Result<StateResponse, Error> {
        match self
            .call(Request::StateRequest(StateRequest::default()))
            .await?
        {
            Response::StateResponse(state) => Ok(state),
            other => Err(unexpected("state_response", &other)),
        }
    }

    /// Ends the stream cleanly: half-closes it and reads it to the end. A
    /// session this stream created is closed by the server.
    pub async fn close(self) -> Result<(), Error> {
        let Self {
            requests,
            mut responses,
            ended,
            ..
        } = self;
        drop(requests);
        if ended.is_some() {
            return Ok(()); // already over, and its error already reported
        }
        loop {
            match responses.message().await {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()),
                Err(status) => return Err(status.into()),
            }
        }
    }

    async fn call(&mut self, request: Request) -> Result<Response, Error> {
        if let Some(ended) = &self.ended {
            return Err(ended.clone());
        }
        self.seq += 1;
        let message = StepStreamRequest {
            seq: self.seq,
            request: Some(request),
            trace_context: BTreeMap::new(),
        };
        // A send fails only when the call is over; the read below says why.
        let _ = self.requests.send(message).await;
        self.receive().await
    }

    /// The answer to request `self.seq`: its response, or its in-band error.
    async fn receive(&mut self) -> Result<Response, Error> {
        let ended = match self.responses.message().await {
            Ok(Some(answer)) if answer.seq == self.seq => match answer.response {
                Some(Response::Error(status)) => return Err(status.into()),
                Some(response) => return Ok(response),
                None => Error::new(
                    Code::Internal,
                    "a StepStream answer held neither a response nor an error",
                ),
            },
            Ok(Some(answer)) => Error::new(
                Code::Internal,
                format!(
                    "StepStream answered seq {} to request {}",
                    answer.seq, self.seq
                ),
            ),
            Ok(None) => Error::new(Code::Unavailable, "the StepStream ended without an answer"),
            Err(status) => status.into(),
        };
        self.ended = Some(ended.clone());
        Err(ended)
    }
}

fn unexpected(wanted: &str, got: &Response) -> Error {
    let got = format!("{got:?}");
    let kind = got.split('(').next().unwrap_or_default();
    Error::new(
        Code::Internal,
        format!("StepStream answered with {kind} where {wanted} was due"),
    )
}
