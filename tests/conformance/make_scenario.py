"""Write scenario.json, the expected values of the conformance checks, by running the env.

    .venv/bin/python tests/conformance/make_scenario.py [--out PATH]

The numbers come from `ConformanceEnv` itself, called directly (no server),
so the scenario says what the env does, and every language's client checks
that a live server carries exactly that. `tests/test_conformance_data.py`
keeps the committed file equal to what this script writes. The layout is
the one tests/conformance/README.md documents; clients parse it, so keep
every key as it is.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import Any

import numpy as np

from openenv_grpc.env import StepResult
from openenv_grpc.envs.conformance import ConformanceEnv

HERE = pathlib.Path(__file__).resolve().parent
SCENARIO = HERE / "scenario.json"

SEED = 42
EPISODE_ACTIONS = [0, 1, 2, 1, 2]  # action 2 on step 5 terminates
NUM_ENVS = 3
BATCHED_ACTIONS = [[0, 1, 2], [2, 2, 2], [1, 0, 2]]  # three steps: no sub-env ends
# The W3C Trace Context specification's own example: a fixed trace the
# runner looks for among the server's spans.
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ERRORS: dict[str, Any] = {
    "unknown_session": {"session_id": "no-such-session", "code": 5, "reason": "SESSION_NOT_FOUND"},
    "action_out_of_space": {"action": 7, "code": 3, "reason": "ACTION_OUT_OF_SPACE"},
    "step_after_end": {"code": 9, "reason": "EPISODE_ENDED"},
    "out_of_order": {"step_index": 5, "code": 10, "reason": "STEP_OUT_OF_ORDER", "step_count": "0"},
    "deadline_retry": {
        "options": {"step_seconds": 1.0},
        "first_deadline_ms": 100,
        "retry_deadline_ms": 10000,
        "code": 4,
    },
}


def floats(array: Any) -> list[Any]:
    """An observation as JSON numbers: exact, since every value is a float32."""
    result: list[Any] = np.asarray(array, dtype=np.float32).astype(float).tolist()
    return result


def episode() -> dict[str, Any]:
    env = ConformanceEnv()
    reset = env.reset(seed=SEED)
    steps = []
    for i, action in enumerate(EPISODE_ACTIONS):
        step = env.step(action)
        done = step.terminated or step.truncated
        if done != (i == len(EPISODE_ACTIONS) - 1):
            raise SystemExit(f"the episode must end at its last action, not at step {i + 1}")
        steps.append(
            {
                "action": action,
                "observation": floats(step.observation),
                "reward": step.reward,
                "terminated": step.terminated,
                "truncated": step.truncated,
                "reward_components": step.reward_components,
            }
        )
    return {"seed": SEED, "reset_observation": floats(reset.observation), "steps": steps}


def batched() -> dict[str, Any]:
    """Gymnasium's vector env semantics: sub-env i is seeded SEED + i.

    No sub-env ends within these steps, so the autoreset mode never comes
    into play and plain per-sub-env stepping is exactly what a vector env does.
    """
    envs = [ConformanceEnv() for _ in range(NUM_ENVS)]
    resets = [env.reset(seed=SEED + i) for i, env in enumerate(envs)]
    steps = []
    for actions in BATCHED_ACTIONS:
        results: list[StepResult] = [env.step(a) for env, a in zip(envs, actions, strict=True)]
        if any(r.terminated or r.truncated for r in results):
            raise SystemExit(f"a sub-env ended at actions {actions}; pick other actions")
        steps.append(
            {
                "actions": actions,
                "observations": [floats(r.observation) for r in results],
                "rewards": [r.reward for r in results],
                "terminations": [r.terminated for r in results],
                "truncations": [r.truncated for r in results],
            }
        )
    return {
        "num_envs": NUM_ENVS,
        "seed": SEED,
        "reset_observations": [floats(r.observation) for r in resets],
        "steps": steps,
    }


def scenario() -> dict[str, Any]:
    env = ConformanceEnv()
    box, discrete = env.observation_space, env.action_space
    return {
        "protocol_major": "1",
        "env_name": env.name,
        "observation_space": {
            "box": {
                "dtype": str(box.dtype),
                "shape": list(box.shape),
                "low": float(box.low.flat[0]),
                "high": float(box.high.flat[0]),
            }
        },
        "action_space": {"discrete": {"n": int(discrete.n), "start": int(discrete.start)}},
        "traceparent": TRACEPARENT,
        "episode": episode(),
        "batched": batched(),
        "errors": ERRORS,
    }


def to_json(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON with any container that fits in the line width kept on one line (for reading)."""
    flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if len(flat) + indent <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {to_json(v, indent + 2, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + to_json(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=SCENARIO, help="where to write")
    args = parser.parse_args()
    args.out.write_text(to_json(scenario()) + "\n")


if __name__ == "__main__":
    main()
