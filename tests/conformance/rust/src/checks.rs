//! Checks 1 to 12 of the scenario, against the live server (13, `golden`,
//! needs no server: see golden.rs). Checks run in order and some hand a
//! session on to the next, as the README describes.

use std::time::Duration;

use openenv_grpc::v1::{
    DescribeRequest, Dtype, ListValue, MapValue, NewSession, ResetBatchRequest, ResetRequest,
    Space, StepBatchRequest, StepRequest, Tensor, Value, reset_request, space,
};
use openenv_grpc::{Client, Error, Session, new_request_id};
use prost::Message;
use serde_json::Value as Json;

use crate::expect::{self, Outcome, at, call, equal, float, int, list, text};

/// Every check, in the order they run and print.
pub const NAMES: [&str; 13] = [
    "describe",
    "trace",
    "unary_episode",
    "step_after_end",
    "unknown_session",
    "action_out_of_space",
    "out_of_order",
    "retried_step",
    "request_id_twice",
    "deadline_retry",
    "stream_episode",
    "batched",
    "golden",
];

/// A deadline for every unary call that sets none of its own, so a hung
/// server fails a check instead of hanging the run.
const CALL_DEADLINE: Duration = Duration::from_secs(30);

pub struct Checks {
    client: Result<Client, Error>,
    scenario: Json,
    /// The session of unary_episode, ended by step_after_end.
    episode_session: Option<String>,
    /// The session action_out_of_space creates for out_of_order and retried_step.
    spare_session: Option<String>,
}

impl Checks {
    pub async fn new(address: &str, scenario: Json) -> Self {
        let client = Client::connect(address)
            .await
            .map(|c| c.with_timeout(CALL_DEADLINE));
        Self {
            client,
            scenario,
            episode_session: None,
            spare_session: None,
        }
    }

    pub async fn run(&mut self, name: &str) -> Outcome {
        let client = self
            .client
            .clone()
            .map_err(|e| format!("cannot connect: {e}"))?;
        match name {
            "describe" => self.describe(&client).await,
            "trace" => self.trace(&client).await,
            "unary_episode" => self.unary_episode(&client).await,
            "step_after_end" => self.step_after_end(&client).await,
            "unknown_session" => self.unknown_session(&client).await,
            "action_out_of_space" => self.action_out_of_space(&client).await,
            "out_of_order" => self.out_of_order(&client).await,
            "retried_step" => self.retried_step(&client).await,
            "request_id_twice" => self.request_id_twice(&client).await,
            "deadline_retry" => self.deadline_retry(&client).await,
            "stream_episode" => self.stream_episode(&client).await,
            "batched" => self.batched(&client).await,
            other => Err(format!("no check named {other}")),
        }
    }

    fn seed(&self) -> Outcome<u64> {
        Ok(int(&self.scenario, "episode.seed")? as u64)
    }

    fn steps(&self) -> Outcome<&[Json]> {
        list(&self.scenario, "episode.steps")
    }

    /// The first step's action: the one out_of_order, retried_step and
    /// deadline_retry send.
    fn first_action(&self) -> Outcome<i64> {
        let first = self.steps()?.first().ok_or("the scenario has no steps")?;
        int(first, "action")
    }

    async fn describe(&mut self, client: &Client) -> Outcome {
        let spec = call("Describe", client.describe().await)?;
        equal(
            "env_name",
            spec.env_name.as_str(),
            text(&self.scenario, "env_name")?,
        )?;
        let major = spec.protocol_version.split('.').next().unwrap_or_default();
        equal(
            "protocol major",
            major,
            text(&self.scenario, "protocol_major")?,
        )?;
        space(
            "observation_space",
            spec.observation_space.as_ref(),
            at(&self.scenario, "observation_space")?,
        )?;
        space(
            "action_space",
            spec.action_space.as_ref(),
            at(&self.scenario, "action_space")?,
        )
    }

    async fn trace(&mut self, client: &Client) -> Outcome {
        let traceparent = text(&self.scenario, "traceparent")?;
        let mut request = client.request(DescribeRequest {}, "");
        let value = traceparent
            .parse()
            .map_err(|e| format!("traceparent {traceparent:?}: {e}"))?;
        request.metadata_mut().insert("traceparent", value);
        call(
            "Describe with traceparent",
            client
                .generated()
                .describe(request)
                .await
                .map_err(Error::from),
        )?;
        Ok(())
    }

    async fn unary_episode(&mut self, client: &Client) -> Outcome {
        let reset = call(
            "Reset",
            client
                .reset(ResetRequest::new_session().with_seed(self.seed()?))
                .await,
        )?;
        self.episode_session = Some(reset.session_id.clone());
        expect::value_tensor(
            "reset observation",
            reset.observation.as_ref(),
            at(&self.scenario, "episode.reset_observation")?,
        )?;
        for (i, want) in self.steps()?.iter().enumerate() {
            let index = i as i64 + 1;
            let request = StepRequest::new(&reset.session_id, int(want, "action")?, index);
            let step = call(&format!("Step {index}"), client.step(request).await)?;
            expect::step(&format!("step {index}"), &step, want, index)?;
        }
        Ok(())
    }

    async fn step_after_end(&mut self, client: &Client) -> Outcome {
        let session = self
            .episode_session
            .take()
            .ok_or("unary_episode made no session")?;
        let index = self.steps()?.len() as i64 + 1;
        let result = client
            .step(StepRequest::new(&session, self.first_action()?, index))
            .await;
        let checked = expect::error(
            "Step after the end",
            result,
            at(&self.scenario, "errors.step_after_end")?,
        );
        call("CloseSession", client.close_session(&session).await)?;
        checked.map(drop)
    }

    async fn unknown_session(&mut self, client: &Client) -> Outcome {
        let want = at(&self.scenario, "errors.unknown_session")?;
        let request = StepRequest::new(text(want, "session_id")?, self.first_action()?, 1);
        expect::error(
            "Step on an unknown session",
            client.step(request).await,
            want,
        )
        .map(drop)
    }

    async fn action_out_of_space(&mut self, client: &Client) -> Outcome {
        let reset = call(
            "Reset",
            client
                .reset(ResetRequest::new_session().with_seed(self.seed()?))
                .await,
        )?;
        self.spare_session = Some(reset.session_id.clone());
        let want = at(&self.scenario, "errors.action_out_of_space")?;
        let request = StepRequest::new(&reset.session_id, int(want, "action")?, 1);
        expect::error(
            "Step outside the action space",
            client.step(request).await,
            want,
        )
        .map(drop)
    }

    async fn out_of_order(&mut self, client: &Client) -> Outcome {
        let session = self
            .spare_session
            .clone()
            .ok_or("action_out_of_space made no session")?;
        let want = at(&self.scenario, "errors.out_of_order")?;
        let request = StepRequest::new(&session, self.first_action()?, int(want, "step_index")?);
        let err = expect::error("Step out of order", client.step(request).await, want)?;
        let step_count = err.metadata().get("step_count").map(String::as_str);
        equal(
            "ErrorInfo metadata step_count",
            step_count,
            Some(text(want, "step_count")?),
        )
    }

    async fn retried_step(&mut self, client: &Client) -> Outcome {
        let session = self
            .spare_session
            .take()
            .ok_or("action_out_of_space made no session")?;
        let checked = self.step_twice(client, &session).await;
        call("CloseSession", client.close_session(&session).await)?;
        checked
    }

    async fn step_twice(&self, client: &Client, session: &str) -> Outcome {
        let request = StepRequest::new(session, self.first_action()?, 1);
        let first = call("Step 1", client.step(request.clone()).await)?;
        let again = call("Step 1 again", client.step(request).await)?;
        equal(
            "the retried step's bytes",
            again.encode_to_vec(),
            first.encode_to_vec(),
        )?;
        expect::step("step 1", &first, &self.steps()?[0], 1)?;
        let state = call("State", client.state(session).await)?;
        equal("step_count after the retry", state.step_count, 1)
    }

    async fn request_id_twice(&mut self, client: &Client) -> Outcome {
        let (id, seed) = (new_request_id(), self.seed()?);
        let reset = || {
            ResetRequest {
                session: Some(reset_request::Session::NewSession(NewSession {
                    request_id: id.clone(),
                    ..NewSession::default()
                })),
                ..ResetRequest::default()
            }
            .with_seed(seed)
        };
        let first = call("Reset", client.reset(reset()).await)?;
        let again = client.reset(reset()).await;
        call(
            "CloseSession",
            client.close_session(&first.session_id).await,
        )?;
        let again = call("Reset with the same request_id", again)?;
        equal(
            "session_id of the repeated creation",
            again.session_id,
            first.session_id,
        )
    }

    async fn deadline_retry(&mut self, client: &Client) -> Outcome {
        let want = at(&self.scenario, "errors.deadline_retry")?;
        let options = at(want, "options")?
            .as_object()
            .ok_or("deadline_retry.options is not an object")?;
        let options: MapValue = options
            .iter()
            .map(|(k, v)| Ok((k.clone(), json_value(v)?)))
            .collect::<Outcome<_>>()?;
        let reset = ResetRequest::new_session()
            .with_seed(self.seed()?)
            .with_options(options);
        let session = call("Reset", client.reset(reset).await)?.session_id;
        let checked = self.slow_step(client, &session, want).await;
        call("CloseSession", client.close_session(&session).await)?;
        checked
    }

    async fn slow_step(&self, client: &Client, session: &str, want: &Json) -> Outcome {
        let request = StepRequest::new(session, self.first_action()?, 1);
        let short =
            client.with_timeout(Duration::from_millis(int(want, "first_deadline_ms")? as u64));
        expect::error(
            "Step past its deadline",
            short.step(request.clone()).await,
            want,
        )?;
        let long =
            client.with_timeout(Duration::from_millis(int(want, "retry_deadline_ms")? as u64));
        let step = call("the retried Step", long.step(request).await)?;
        expect::step("retried step", &step, &self.steps()?[0], 1)?;
        let state = call("State", client.state(session).await)?;
        equal("step_count after the retry", state.step_count, 1)
    }

    async fn stream_episode(&mut self, client: &Client) -> Outcome {
        let reset = ResetRequest::new_session().with_seed(self.seed()?);
        let (mut session, first) = call("StepStream reset", Session::create(client, reset).await)?;
        expect::value_tensor(
            "reset observation",
            first.observation.as_ref(),
            at(&self.scenario, "episode.reset_observation")?,
        )?;
        let steps = self.steps()?;
        for (i, want) in steps.iter().enumerate() {
            let index = i as i64 + 1;
            let step = call(
                &format!("stream step {index}"),
                session.step(int(want, "action")?).await,
            )?;
            expect::step(&format!("stream step {index}"), &step, want, index)?;
        }
        let ended = session.step(self.first_action()?).await;
        expect::error(
            "stream step after the end",
            ended,
            at(&self.scenario, "errors.step_after_end")?,
        )?;
        call("stream reset", session.reset(ResetRequest::default()).await)?;
        let want = at(&self.scenario, "errors.action_out_of_space")?;
        expect::error(
            "stream step outside the action space",
            session.step(int(want, "action")?).await,
            want,
        )?;
        call("stream state after the errors", session.state().await)?;
        call("closing the stream", session.close().await)
    }

    async fn batched(&mut self, client: &Client) -> Outcome {
        let batched = at(&self.scenario, "batched")?;
        let num_envs = int(batched, "num_envs")? as i32;
        let reset =
            ResetBatchRequest::new_session(num_envs).with_seed(int(batched, "seed")? as u64);
        let reset = call("ResetBatch", client.reset_batch(reset).await)?;
        let checked = self
            .batched_steps(
                client,
                &reset.session_id,
                batched,
                reset.observations.as_ref(),
            )
            .await;
        call(
            "CloseSession",
            client.close_session(&reset.session_id).await,
        )?;
        checked
    }

    async fn batched_steps(
        &self,
        client: &Client,
        session: &str,
        batched: &Json,
        first: Option<&Value>,
    ) -> Outcome {
        expect::value_tensor(
            "reset observations",
            first,
            at(batched, "reset_observations")?,
        )?;
        for (i, want) in list(batched, "steps")?.iter().enumerate() {
            let index = i as i64 + 1;
            let actions = list(want, "actions")?
                .iter()
                .map(|a| a.as_i64().ok_or("an action is not an integer"));
            let actions = Tensor::vector(&actions.collect::<Result<Vec<i64>, _>>()?);
            let step = call(
                &format!("StepBatch {index}"),
                client
                    .step_batch(StepBatchRequest::new(session, actions, index))
                    .await,
            )?;
            let what = |field: &str| format!("batched step {index} {field}");
            expect::value_tensor(
                &what("observations"),
                step.observations.as_ref(),
                at(want, "observations")?,
            )?;
            expect::tensor(
                &what("rewards"),
                step.rewards.as_ref(),
                at(want, "rewards")?,
            )?;
            expect::tensor(
                &what("terminations"),
                step.terminations.as_ref(),
                at(want, "terminations")?,
            )?;
            expect::tensor(
                &what("truncations"),
                step.truncations.as_ref(),
                at(want, "truncations")?,
            )?;
            equal(&what("step_index"), step.step_index, index)?;
        }
        Ok(())
    }
}

/// A space equal to the scenario's description of it (box or discrete).
fn space(what: &str, got: Option<&Space>, want: &Json) -> Outcome {
    let kind = got
        .and_then(|s| s.kind.as_ref())
        .ok_or_else(|| format!("{what}: no space"))?;
    match kind {
        space::Kind::Box(b) => {
            let want = at(want, "box").map_err(|_| format!("{what}: got a box, want {want}"))?;
            let dtype = b
                .dtype()
                .as_str_name()
                .trim_start_matches("DTYPE_")
                .to_lowercase();
            equal(
                &format!("{what} dtype"),
                dtype.as_str(),
                text(want, "dtype")?,
            )?;
            let shape: Vec<i64> = b.shape.iter().map(|&d| i64::from(d)).collect();
            let want_shape = list(want, "shape")?
                .iter()
                .map(|d| d.as_i64().unwrap_or(-1))
                .collect::<Vec<_>>();
            equal(&format!("{what} shape"), shape, want_shape)?;
            bound(&format!("{what} low"), b.low.as_ref(), at(want, "low")?)?;
            bound(&format!("{what} high"), b.high.as_ref(), at(want, "high")?)
        }
        space::Kind::Discrete(d) => {
            let want = at(want, "discrete")
                .map_err(|_| format!("{what}: got a discrete space, want {want}"))?;
            equal(&format!("{what} n"), d.n, int(want, "n")?)?;
            equal(&format!("{what} start"), d.start, int(want, "start")?)?;
            let dtype = d.dtype();
            equal(
                &format!("{what} dtype"),
                matches!(dtype, Dtype::Unspecified | Dtype::Int64),
                true,
            )
        }
        other => Err(format!("{what}: got {other:?}, want {want}")),
    }
}

/// Box bounds: one scalar for every element, or one per element, either
/// way equal to the scenario's (a number, or a list per element).
fn bound(what: &str, got: Option<&Tensor>, want: &Json) -> Outcome {
    let got = got.ok_or_else(|| format!("{what}: missing"))?;
    let values = got.to_data().map_err(|e| format!("{what}: {e}"))?.to_f64();
    match want {
        Json::Array(_) => expect::tensor(what, Some(got), want),
        _ => {
            let want = float(want)?;
            match values.iter().find(|&&v| v != want) {
                Some(v) => Err(format!(
                    "{what}: got an element {v}, want every element {want}"
                )),
                None if values.is_empty() => Err(format!("{what}: no elements")),
                None => Ok(()),
            }
        }
    }
}

/// A JSON value of the scenario as a protocol Value (numbers with a
/// fraction or exponent as doubles, others as ints).
fn json_value(json: &Json) -> Outcome<Value> {
    Ok(match json {
        Json::Null => Value::null(),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) if n.is_i64() => Value::from(n.as_i64().unwrap_or_default()),
        Json::Number(n) => Value::from(n.as_f64().ok_or_else(|| format!("{n} is not a number"))?),
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(
            items
                .iter()
                .map(json_value)
                .collect::<Outcome<ListValue>>()?,
        ),
        Json::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), json_value(v)?)))
                .collect::<Outcome<MapValue>>()?,
        ),
    })
}
