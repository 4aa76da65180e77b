// The live checks of the scenario (1 to 12 of tests/conformance/README.md),
// in order, against a server: unary calls through the package's client,
// the stream through its EnvSession. A check that needs an earlier check's
// session fails with that reason when the earlier check left none.

import { randomUUID } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import {
  Dtype,
  EnvSession,
  StepResponseSchema,
  arrayToTensor,
  intValue,
  tensorToArray,
  toMapValue,
  toValue,
  type EnvClient,
  type Space,
  type StepResponse,
  type Value,
} from "@openenv-grpc/client";
import { expect, expectEqual, expectError, expectRecord, expectTensor, show, tensorOf } from "./expect.js";
import type { ExpectedStep, Scenario, SpaceSpec } from "./scenario.js";

export type Check = readonly [name: string, run: () => Promise<void>];

const DTYPES: Record<string, Dtype> = Object.fromEntries(
  Object.entries(Dtype)
    .filter(([, v]) => typeof v === "number")
    .map(([name, v]) => [name.toLowerCase(), v as Dtype]),
);

export function liveChecks(client: EnvClient, scenario: Scenario): Check[] {
  const { episode, batched, errors } = scenario;
  const steps = episode.steps;
  const first = steps[0]!;
  const seed = BigInt(episode.seed);
  let episodeSession = "";
  let errorSession = "";

  const newSession = (requestId = randomUUID()) => ({ case: "newSession" as const, value: { requestId } });
  const step = (sessionId: string, action: number, stepIndex: number, timeoutMs?: number) =>
    client.step({ sessionId, action: intValue(action), stepIndex: BigInt(stepIndex) }, { timeoutMs });
  const stepCount = async (sessionId: string) => (await client.state({ sessionId })).stepCount;

  return [
    [
      "describe",
      async () => {
        const spec = await client.describe({});
        expectEqual("env_name", spec.envName, scenario.env_name);
        expectEqual("protocol MAJOR", spec.protocolVersion.split(".")[0], scenario.protocol_major);
        expectSpace("observation_space", spec.observationSpace, scenario.observation_space);
        expectSpace("action_space", spec.actionSpace, scenario.action_space);
      },
    ],
    [
      "trace",
      async () => {
        const spec = await client.describe({}, { headers: { traceparent: scenario.traceparent } });
        expectEqual("env_name", spec.envName, scenario.env_name);
      },
    ],
    [
      "unary_episode",
      async () => {
        const reset = await client.reset({ session: newSession(), seed });
        episodeSession = reset.sessionId;
        expectObservation("reset observation", reset.observation, episode.reset_observation);
        for (const [i, want] of steps.entries()) {
          expectStep(`step ${i + 1}`, await step(reset.sessionId, want.action, i + 1), want, i + 1);
        }
      },
    ],
    [
      "step_after_end",
      async () => {
        expect(episodeSession !== "", "no session: unary_episode did not start one");
        await expectError("step after the end", step(episodeSession, first.action, steps.length + 1), errors.step_after_end);
        await client.closeSession({ sessionId: episodeSession });
      },
    ],
    [
      "unknown_session",
      async () => {
        const { session_id, ...want } = errors.unknown_session;
        await expectError(`step on ${session_id}`, step(session_id, first.action, 1), want);
      },
    ],
    [
      "action_out_of_space",
      async () => {
        errorSession = (await client.reset({ session: newSession(), seed })).sessionId;
        const { action, ...want } = errors.action_out_of_space;
        await expectError(`action ${action}`, step(errorSession, action, 1), want);
      },
    ],
    [
      "out_of_order",
      async () => {
        expect(errorSession !== "", "no session: action_out_of_space did not start one");
        const { step_index, step_count, ...want } = errors.out_of_order;
        const error = await expectError(`step_index ${step_index}`, step(errorSession, first.action, step_index), want);
        expectEqual("ErrorInfo metadata step_count", error.metadata["step_count"], step_count);
      },
    ],
    [
      "retried_step",
      async () => {
        expect(errorSession !== "", "no session: action_out_of_space did not start one");
        const once = await step(errorSession, first.action, 1);
        const twice = await step(errorSession, first.action, 1);
        expectEqual(
          "the retried answer's bytes",
          Buffer.from(toBinary(StepResponseSchema, twice)).toString("hex"),
          Buffer.from(toBinary(StepResponseSchema, once)).toString("hex"),
        );
        expectStep("step 1", once, first, 1);
        expectEqual("State step_count", await stepCount(errorSession), 1n);
        await client.closeSession({ sessionId: errorSession });
      },
    ],
    [
      "request_id_twice",
      async () => {
        const requestId = randomUUID();
        const a = await client.reset({ session: newSession(requestId), seed });
        const b = await client.reset({ session: newSession(requestId), seed });
        expectEqual("session_id of the second creation", b.sessionId, a.sessionId);
        await client.closeSession({ sessionId: a.sessionId });
      },
    ],
    [
      "deadline_retry",
      async () => {
        const want = errors.deadline_retry;
        const reset = await client.reset({ session: newSession(), seed, options: toMapValue(want.options) });
        await expectError(
          `step with a ${want.first_deadline_ms} ms deadline`,
          step(reset.sessionId, first.action, 1, want.first_deadline_ms),
          { code: want.code },
        );
        expectStep("the retried step", await step(reset.sessionId, first.action, 1, want.retry_deadline_ms), first, 1);
        expectEqual("State step_count", await stepCount(reset.sessionId), 1n);
        await client.closeSession({ sessionId: reset.sessionId });
      },
    ],
    [
      "stream_episode",
      async () => {
        const { session, reset } = await EnvSession.create(client, { seed });
        try {
          expectObservation("reset observation", reset.observation, episode.reset_observation);
          for (const [i, want] of steps.entries()) {
            expectStep(`step ${i + 1}`, await session.step(intValue(want.action)), want, i + 1);
          }
          await expectError("step after the end", session.step(intValue(first.action)), errors.step_after_end);
          await session.reset();
          const { action, ...outOfSpace } = errors.action_out_of_space;
          await expectError(`action ${action}`, session.step(intValue(action)), outOfSpace);
          const state = await session.state();
          expectEqual("State session_id", state.sessionId, session.sessionId);
        } finally {
          await session.close();
        }
      },
    ],
    [
      "batched",
      async () => {
        const n = batched.num_envs;
        const reset = await client.resetBatch({
          session: { case: "newSession", value: { requestId: randomUUID(), numEnvs: n } },
          all: { seed: BigInt(batched.seed) },
        });
        try {
          expectTensor("reset observations", tensorOf("observations", reset.observations), Dtype.FLOAT32, [n, 3], batched.reset_observations.flat());
          for (const [i, want] of batched.steps.entries()) {
            const actions = toValue(arrayToTensor(BigInt64Array.from(want.actions, BigInt), { shape: [n] }));
            const got = await client.stepBatch({ sessionId: reset.sessionId, actions, stepIndex: BigInt(i + 1) });
            const at = `step ${i + 1}`;
            expectTensor(`${at} observations`, tensorOf("observations", got.observations), Dtype.FLOAT32, [n, 3], want.observations.flat());
            expectTensor(`${at} rewards`, got.rewards, Dtype.FLOAT64, [n], want.rewards);
            expectTensor(`${at} terminations`, got.terminations, Dtype.BOOL, [n], want.terminations.map(Number));
            expectTensor(`${at} truncations`, got.truncations, Dtype.BOOL, [n], want.truncations.map(Number));
            expectEqual(`${at} step_index`, got.stepIndex, BigInt(i + 1));
          }
        } finally {
          await client.closeSession({ sessionId: reset.sessionId });
        }
      },
    ],
  ];
}

function expectObservation(what: string, value: Value | undefined, want: number[]): void {
  expectTensor(what, tensorOf(what, value), Dtype.FLOAT32, [want.length], want);
}

function expectStep(what: string, got: StepResponse, want: ExpectedStep, index: number): void {
  expectObservation(`${what} observation`, got.observation, want.observation);
  expectEqual(`${what} reward`, got.reward, want.reward);
  expectEqual(`${what} terminated`, got.terminated, want.terminated);
  expectEqual(`${what} truncated`, got.truncated, want.truncated);
  expectRecord(`${what} reward_components`, got.rewardComponents, want.reward_components);
  expectEqual(`${what} step_index`, got.stepIndex, BigInt(index));
}

function expectSpace(what: string, got: Space | undefined, want: SpaceSpec): void {
  if ("box" in want) {
    expect(got?.kind.case === "box", `${what}: a ${got?.kind.case ?? "missing"} space, want box`);
    const box = got.kind.value;
    expectEqual(`${what} dtype`, box.dtype, DTYPES[want.box.dtype]);
    expectEqual(`${what} shape`, box.shape, want.box.shape);
    for (const [name, tensor, bound] of [["low", box.low, want.box.low], ["high", box.high, want.box.high]] as const) {
      expect(tensor !== undefined, `${what} ${name}: unset`);
      const values = [...tensorToArray(tensor).data];
      const wanted = typeof bound === "number" ? values.map(() => bound) : bound;
      expect(values.length > 0, `${what} ${name}: empty`);
      expectEqual(`${what} ${name}`, values, wanted);
    }
  } else if ("discrete" in want) {
    expect(got?.kind.case === "discrete", `${what}: a ${got?.kind.case ?? "missing"} space, want discrete`);
    expectEqual(`${what} n`, got.kind.value.n, BigInt(want.discrete.n));
    expectEqual(`${what} start`, got.kind.value.start, BigInt(want.discrete.start));
  } else {
    expect(false, `${what}: the scenario's space ${show(want)} is not one this client knows`);
  }
}
