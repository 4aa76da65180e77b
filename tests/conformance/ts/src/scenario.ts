// The shape of tests/conformance/scenario.json (see the README beside it).

import { readFileSync } from "node:fs";

export type SpaceSpec =
  | { box: { dtype: string; shape: number[]; low: number | number[]; high: number | number[] } }
  | { discrete: { n: number; start: number } };

export interface ExpectedStep {
  action: number;
  observation: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
  reward_components: Record<string, number>;
}

export interface ExpectedBatchStep {
  actions: number[];
  observations: number[][];
  rewards: number[];
  terminations: boolean[];
  truncations: boolean[];
}

export interface ExpectedError {
  code: number;
  reason: string;
}

export interface Scenario {
  protocol_major: string;
  env_name: string;
  observation_space: SpaceSpec;
  action_space: SpaceSpec;
  traceparent: string;
  episode: { seed: number; reset_observation: number[]; steps: ExpectedStep[] };
  batched: { num_envs: number; seed: number; reset_observations: number[][]; steps: ExpectedBatchStep[] };
  errors: {
    unknown_session: ExpectedError & { session_id: string };
    action_out_of_space: ExpectedError & { action: number };
    step_after_end: ExpectedError;
    out_of_order: ExpectedError & { step_index: number; step_count: string };
    deadline_retry: {
      options: Record<string, number>;
      first_deadline_ms: number;
      retry_deadline_ms: number;
      code: number;
    };
  };
}

export function loadScenario(path: string): Scenario {
  return JSON.parse(readFileSync(path, "utf8")) as Scenario;
}
