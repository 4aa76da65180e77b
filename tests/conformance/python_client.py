"""The Python client's run of the conformance scenario (see README.md beside this file).

    python tests/conformance/python_client.py --address HOST:PORT \
        --scenario tests/conformance/scenario.json --golden tests/conformance/golden

It drives the server through the package's own clients (`EnvClient`, its
stream sessions, `openenv_grpc.errors`), prints `PASS name` or
`FAIL name: why` per check and `N passed, M failed` last; exit 0 only when
nothing failed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from google.protobuf import descriptor_pool, message_factory
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_grpc.tensors import decode_tensor
from openenv_proto.v1 import env_service_pb2, spaces_pb2, values_pb2  # noqa: F401 (registered)

Scenario = dict[str, Any]


class Check(AssertionError):
    """A check that did not hold, with why."""


def expect(condition: bool, why: str) -> None:
    if not condition:
        raise Check(why)


def expect_error(call: Callable[[], Any], code: int, reason: str) -> errors.EnvError:
    try:
        call()
    except errors.EnvError as exc:
        expect(
            (int(exc.code), exc.reason) == (code, reason),
            f"expected {code}/{reason}, got {int(exc.code)}/{exc.reason}: {exc.message}",
        )
        return exc
    raise Check(f"expected {code}/{reason}, but the call succeeded")


def same_step(reply: Any, want: dict[str, Any], index: int) -> None:
    got = np.asarray(reply.observation, dtype=np.float32).tolist()
    expect(got == want["observation"], f"step {index}: observation {got} != {want['observation']}")
    expect(reply.reward == want["reward"], f"step {index}: reward {reply.reward}")
    expect(
        (reply.terminated, reply.truncated) == (want["terminated"], want["truncated"]),
        f"step {index}: terminated/truncated {reply.terminated}/{reply.truncated}",
    )
    expect(reply.step_index == index, f"step {index}: step_index {reply.step_index}")
    if "reward_components" in want:
        expect(
            reply.reward_components == want["reward_components"],
            f"step {index}: reward components {reply.reward_components}",
        )


class Run:
    """The 13 checks, in order, against one server."""

    def __init__(self, address: str, scenario: Scenario, golden: pathlib.Path) -> None:
        self.client = EnvClient(address, timeout=30)
        self.s = scenario
        self.golden = golden

    def describe(self) -> None:
        spec = self.client.describe()
        s = self.s
        expect(spec.env_name == s["env_name"], f"env_name {spec.env_name}")
        expect(spec.protocol_version.split(".")[0] == s["protocol_major"], "protocol major")
        box = s["observation_space"]["box"]
        obs = spec.observation_space
        expect(
            (str(obs.dtype), list(obs.shape)) == (box["dtype"], box["shape"]),  # type: ignore[attr-defined]
            f"observation space {obs}",
        )
        expect(bool(np.all(obs.low == box["low"]) and np.all(obs.high == box["high"])), "bounds")  # type: ignore[attr-defined]
        act, want = spec.action_space, s["action_space"]["discrete"]
        expect(
            (int(act.n), int(act.start)) == (want["n"], want["start"]),  # type: ignore[attr-defined]
            f"action space {act}",
        )

    def trace(self) -> None:
        _, trace_id, span_id, flags = self.s["traceparent"].split("-")
        context = SpanContext(
            int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=TraceFlags(int(flags))
        )
        with trace.use_span(NonRecordingSpan(context)):  # the client sends it as traceparent
            self.client.describe()

    def unary_episode(self) -> None:
        episode = self.s["episode"]
        reply = self.client.reset(seed=episode["seed"])
        got = np.asarray(reply.observation).tolist()
        expect(got == episode["reset_observation"], f"reset observation {got}")
        for index, want in enumerate(episode["steps"], start=1):
            same_step(self.client.step(reply.session_id, want["action"]), want, index)
        self.session = reply.session_id

    def step_after_end(self) -> None:
        want = self.s["errors"]["step_after_end"]
        expect_error(lambda: self.client.step(self.session, 0), want["code"], want["reason"])
        self.client.close_session(self.session)

    def unknown_session(self) -> None:
        want = self.s["errors"]["unknown_session"]
        expect_error(lambda: self.client.step(want["session_id"], 0), want["code"], want["reason"])

    def action_out_of_space(self) -> None:
        want = self.s["errors"]["action_out_of_space"]
        self.session = self.client.reset(seed=42).session_id
        expect_error(
            lambda: self.client.step(self.session, want["action"]), want["code"], want["reason"]
        )

    def out_of_order(self) -> None:
        want = self.s["errors"]["out_of_order"]
        exc = expect_error(
            lambda: self.client.step(self.session, 0, step_index=want["step_index"]),
            want["code"],
            want["reason"],
        )
        expect(exc.metadata.get("step_count") == want["step_count"], f"{exc.metadata}")

    def retried_step(self) -> None:
        first = self.s["episode"]["steps"][0]
        one = self.client.step(self.session, first["action"], step_index=1)
        two = self.client.step(self.session, first["action"], step_index=1)
        same_step(one, first, 1)
        same_step(two, first, 1)
        expect(self.client.state(self.session).step_count == 1, "the step was applied twice")
        self.client.close_session(self.session)

    def request_id_twice(self) -> None:
        one = self.client.reset(seed=42, request_id="conformance-request-id")
        two = self.client.reset(seed=42, request_id="conformance-request-id")
        expect(one.session_id == two.session_id, "two sessions for one request id")
        self.client.close_session(one.session_id)

    def deadline_retry(self) -> None:
        want = self.s["errors"]["deadline_retry"]
        first = self.s["episode"]["steps"][0]
        session = self.client.reset(seed=42, options=want["options"]).session_id
        self.client.timeout = want["first_deadline_ms"] / 1000
        try:
            exc = expect_error(
                lambda: self.client.step(session, first["action"], step_index=1), want["code"], ""
            )
        finally:
            self.client.timeout = want["retry_deadline_ms"] / 1000
        expect(isinstance(exc, errors.DeadlineExceeded), f"{type(exc).__name__}")
        same_step(self.client.step(session, first["action"], step_index=1), first, 1)
        expect(self.client.state(session).step_count == 1, "the step was applied twice")
        self.client.timeout = 30
        self.client.close_session(session)

    def stream_episode(self) -> None:
        episode, errs = self.s["episode"], self.s["errors"]
        with self.client.stream() as stream:
            reply = stream.reset(seed=episode["seed"])
            expect(np.asarray(reply.observation).tolist() == episode["reset_observation"], "reset")
            for index, want in enumerate(episode["steps"], start=1):
                same_step(stream.step(want["action"]), want, index)
            ended = errs["step_after_end"]
            expect_error(lambda: stream.step(0), ended["code"], ended["reason"])
            stream.reset(seed=episode["seed"])
            bad = errs["action_out_of_space"]
            expect_error(lambda: stream.step(bad["action"]), bad["code"], bad["reason"])
            expect(stream.state().step_count == 0, "the stream did not go on")

    def batched(self) -> None:
        batch = self.s["batched"]
        reply = self.client.reset_batch(batch["num_envs"], seed=batch["seed"])
        got = np.asarray(reply.observations).tolist()
        expect(got == batch["reset_observations"], f"batched reset {got}")
        for index, want in enumerate(batch["steps"], start=1):
            step = self.client.step_batch(reply.session_id, np.array(want["actions"], np.int64))
            expect(step.step_index == index, f"batched step_index {step.step_index}")
            expect(np.asarray(step.observations).tolist() == want["observations"], "observations")
            expect(step.rewards.tolist() == want["rewards"], f"rewards {step.rewards}")
            expect(step.terminations.tolist() == want["terminations"], "terminations")
            expect(step.truncations.tolist() == want["truncations"], "truncations")
        self.client.close_session(reply.session_id)

    def golden_files(self) -> None:
        pool = descriptor_pool.Default()
        for entry in json.loads((self.golden / "golden.json").read_text()):
            data = (self.golden / entry["file"]).read_bytes()
            kind = pool.FindMessageTypeByName(entry["type"])
            message = message_factory.GetMessageClass(kind)()
            message.ParseFromString(data)
            again = message.SerializeToString(deterministic=True)
            expect(again == data, f"{entry['file']} does not re-encode to the same bytes")
            if "tensor" in entry:
                tensor = message if entry["type"] == "openenv.v1.Tensor" else message.tensor
                want = entry["tensor"]
                array = decode_tensor(tensor)
                expect(str(array.dtype) == want["dtype"], f"{entry['file']}: dtype {array.dtype}")
                expect(list(array.shape) == want["shape"], f"{entry['file']}: shape")
                values = [_number(v) for v in want["values"]]
                expect(array.ravel().tolist() == values, f"{entry['file']}: values")


def _number(value: Any) -> Any:
    """A golden value: big integers and infinities are written as strings."""
    if not isinstance(value, str):
        return value
    return float(value) if "Infinity" in value else int(value)


CHECKS = [
    ("describe", Run.describe),
    ("trace", Run.trace),
    ("unary_episode", Run.unary_episode),
    ("step_after_end", Run.step_after_end),
    ("unknown_session", Run.unknown_session),
    ("action_out_of_space", Run.action_out_of_space),
    ("out_of_order", Run.out_of_order),
    ("retried_step", Run.retried_step),
    ("request_id_twice", Run.request_id_twice),
    ("deadline_retry", Run.deadline_retry),
    ("stream_episode", Run.stream_episode),
    ("batched", Run.batched),
    ("golden", Run.golden_files),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--scenario", type=pathlib.Path, required=True)
    parser.add_argument("--golden", type=pathlib.Path, required=True)
    args = parser.parse_args()
    run = Run(args.address, json.loads(args.scenario.read_text()), args.golden)
    passed = failed = 0
    for name, check in CHECKS:
        try:
            check(run)
        except Exception as exc:
            failed += 1
            why = str(exc) if isinstance(exc, Check) else traceback.format_exc(limit=2)
            print(f"FAIL {name}: {' '.join(why.split())}", flush=True)
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
    run.client.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
