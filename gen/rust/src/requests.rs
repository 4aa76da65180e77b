//! Short ways to write the requests that create and reset sessions.
//!
//! Every request that creates a session should carry a fresh `request_id`
//! (a retry with the same id then returns the same session instead of a
//! second one): [`ResetRequest::new_session`] and
//! [`ResetBatchRequest::new_session`] set one.

use crate::v1::{
    AutoresetMode, MapValue, NewBatchSession, NewSession, ResetBatchRequest, ResetRequest,
    SubEnvReset, reset_batch_request, reset_request,
};

/// A fresh request id: a random (v4) UUID.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ResetRequest {
    /// Create a session (with a fresh `request_id`), then reset it.
    pub fn new_session() -> Self {
        let new = NewSession {
            request_id: new_request_id(),
            ..NewSession::default()
        };
        Self {
            session: Some(reset_request::Session::NewSession(new)),
            ..Self::default()
        }
    }

    /// Reset the existing session `session_id`.
    pub fn of_session(session_id: impl Into<String>) -> Self {
        Self {
            session: Some(reset_request::Session::SessionId(session_id.into())),
            ..Self::default()
        }
    }

    /// With this seed for the env's random number generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// With these env-specific reset options.
    pub fn with_options(mut self, options: MapValue) -> Self {
        self.options = Some(options);
        self
    }

    /// Starting this task of a multi-task env.
    pub fn with_task(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = task_id.into();
        self
    }
}

impl ResetBatchRequest {
    /// Create a batched session of `num_envs` sub-envs (with a fresh
    /// `request_id`), then reset them all.
    pub fn new_session(num_envs: i32) -> Self {
        let new = NewBatchSession {
            request_id: new_request_id(),
            num_envs,
            ..NewBatchSession::default()
        };
        Self {
            session: Some(reset_batch_request::Session::NewSession(new)),
            ..Self::default()
        }
    }

    /// With this autoreset mode (only for a new session).
    pub fn with_autoreset(mut self, mode: AutoresetMode) -> Self {
        if let Some(reset_batch_request::Session::NewSession(new)) = &mut self.session {
            new.set_autoreset_mode(mode);
        }
        self
    }

    /// Every sub-env reset with `seed + i`, as Gymnasium's vector envs do.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.all.get_or_insert_with(SubEnvReset::default).seed = Some(seed);
        self
    }

    /// Only these sub-envs (empty: all of them).
    pub fn with_env_ids(mut self, env_ids: Vec<i32>) -> Self {
        self.env_ids = env_ids;
        self
    }
}
