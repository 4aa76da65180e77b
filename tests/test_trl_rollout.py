"""examples/python/trl_rollout.py against `openenv-grpc serve terminal`: the dict TRL's
GRPOTrainer expects of a rollout_func, and the verifier's reward for a solved task."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from openenv_grpc.envs.terminal import TASKS_DIR

from processes import ROOT, Served


@pytest.fixture(scope="module")
def terminal() -> Iterator[Served]:
    served = Served("terminal")
    yield served
    assert served.stop() == 0


@pytest.fixture(scope="module")
def example() -> ModuleType:
    path = ROOT / "examples" / "python" / "trl_rollout.py"
    spec = importlib.util.spec_from_file_location("trl_rollout", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def solutions() -> dict[str, list[str]]:
    """The shipped train tasks' solutions by prompt (hidden fields: read from the package,
    as only a test may)."""
    rows = [json.loads(line) for line in (TASKS_DIR / "train.jsonl").read_text().splitlines()]
    return {row["prompt"]: row["solution"] for row in rows}


def test_a_scripted_policy_that_solves_its_tasks_gets_reward_one(
    terminal: Served, example: ModuleType
) -> None:
    rows = example.task_rows(terminal.address)
    assert len(rows) == len(solutions())
    assert all(set(row) == {"prompt", "task_id"} for row in rows)
    hello, count = rows[0], rows[1]  # hello-file (a check script), count-errors (an answer)
    scripts = solutions()
    rollout = example.make_rollout_func(
        terminal.address, policy=example.ScriptedPolicy({hello["prompt"]: scripts[hello["prompt"]]})
    )
    # GRPO repeats each prompt num_generations times; a chat template may wrap it
    prompts = [hello["prompt"], f"<|user|>{hello['prompt']}<|end|>", count["prompt"]]
    out = rollout(prompts, None)
    assert set(out) == {"prompt_ids", "completion_ids", "logprobs", "env_reward", "task_id"}
    assert all(len(values) == len(prompts) for values in out.values())
    assert out["task_id"] == ["hello-file", "hello-file", "count-errors"]
    assert out["env_reward"] == [1.0, 1.0, 0.0]  # no script for count-errors: a bare submit
    tokenizer = example.ByteTokenizer()
    assert out["prompt_ids"][1] == tokenizer.encode(prompts[1])
    assert out["completion_ids"][0] == tokenizer.encode("\n".join(scripts[hello["prompt"]]))
    assert out["completion_ids"][2] == tokenizer.encode("submit")
    for ids, logprobs in zip(out["completion_ids"], out["logprobs"], strict=True):
        assert len(ids) == len(logprobs)
        assert all(lp <= 0.0 for lp in logprobs)
    assert example.env_reward_func(["a", "b", "c"], **out) == [1.0, 1.0, 0.0]


def test_a_random_policy_rollout_has_trls_shape_with_a_trainers_tokenizer(
    terminal: Served, example: ModuleType
) -> None:
    class Trainer:  # what the rollout reads of a GRPOTrainer: its processing_class
        class processing_class:  # noqa: N801 - a tokenizer stand-in, as TRL names it
            @staticmethod
            def encode(text: str, add_special_tokens: bool = False) -> list[int]:
                return [len(word) for word in text.split()]

    rows = example.task_rows(terminal.address, split="test")
    policy = example.RandomPolicy(seed=3)
    rollout = example.make_rollout_func(terminal.address, policy=policy, split="test", max_turns=4)
    out = rollout([row["prompt"] for row in rows], Trainer())
    assert out["task_id"] == [row["task_id"] for row in rows]
    assert all(reward in (0.0, 1.0) for reward in out["env_reward"])
    for prompt, ids in zip(rows, out["prompt_ids"], strict=True):
        assert ids == [len(word) for word in prompt["prompt"].split()]
    for ids, logprobs in zip(out["completion_ids"], out["logprobs"], strict=True):
        assert 1 <= len(ids) == len(logprobs)
        assert all(math.isfinite(lp) and lp <= 0.0 for lp in logprobs)
