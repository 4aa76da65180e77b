"""A TRL GRPOTrainer `rollout_func` that plays the terminal env over gRPC.

TRL's GRPOTrainer takes `rollout_func(prompts, trainer) -> dict`: it gets the
prompts of the current batch (each repeated `num_generations` times) and the
trainer, and returns `prompt_ids`, `completion_ids` and `logprobs` (one list
per prompt); any other key is passed to the reward functions as a keyword.
Here each prompt is one episode of `openenv-grpc serve terminal` on the task
whose prompt it is: the policy writes a bash command, the env runs it in the
session's sandbox, until the policy sends `submit` (the task's verifier then
gives the reward) or the turns run out. The completion is the policy's
commands, one per line (the env's outputs are context, not tokens to train);
the episode's reward comes back as `env_reward`, which `env_reward_func`
hands to GRPO:

    trainer = GRPOTrainer(model=..., reward_funcs=[env_reward_func],
                          train_dataset=Dataset.from_list(task_rows(ADDRESS)),
                          rollout_func=make_rollout_func(ADDRESS, policy=...))

The episodes of a batch run at once, each on its own stream, through one
`AsyncEnvClient`. No model is needed to run this file: `RandomPolicy` picks
commands from a small list and `ByteTokenizer` stands in for a tokenizer;
see docs/agents.md ("Training with TRL") for a real model.

    openenv-grpc serve terminal &
    python examples/python/trl_rollout.py localhost:50051
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from openenv_grpc import AsyncEnvClient, EnvClient

MAX_TURNS = 8


class Tokenizer(Protocol):
    """What the rollout needs of a tokenizer (a transformers tokenizer has it)."""

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...


class ByteTokenizer:
    """A stand-in tokenizer: one token per UTF-8 byte."""

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return list(text.encode())


@dataclass(frozen=True)
class Turn:
    """One command of the policy and the log-probability it gave it (summed over its
    tokens; the rollout puts it on the command's first token)."""

    command: str
    logprob: float = 0.0


Transcript = list[tuple[str, str]]  # (command, what the env answered), oldest first
Policy = Callable[[str, Transcript], Turn]
"""A policy: the task's prompt and the episode so far in, the next command out."""


class RandomPolicy:
    """A randomly initialised policy over a few commands: it looks around, then submits."""

    COMMANDS = ("ls", "ls -la", "cat *", "wc -l *", "pwd")

    def __init__(self, seed: int = 0, submit_probability: float = 0.3) -> None:
        self.rng = random.Random(seed)
        self.submit_probability = submit_probability

    def __call__(self, prompt: str, transcript: Transcript) -> Turn:
        if self.rng.random() < self.submit_probability:
            return Turn("submit", math.log(self.submit_probability))
        each = (1 - self.submit_probability) / len(self.COMMANDS)
        return Turn(self.rng.choice(self.COMMANDS), math.log(each))


class ScriptedPolicy:
    """Plays a fixed list of commands per task prompt (`submit` when it has none left)."""

    def __init__(self, scripts: dict[str, Sequence[str]]) -> None:
        self.scripts = scripts

    def __call__(self, prompt: str, transcript: Transcript) -> Turn:
        script = self.scripts.get(prompt, ())
        return Turn(script[len(transcript)] if len(transcript) < len(script) else "submit")


def task_rows(address: str, split: str = "train", taskset: str = "") -> list[dict[str, Any]]:
    """A split's tasks as dataset rows ({"prompt", "task_id"}) for GRPOTrainer's
    `train_dataset` (`datasets.Dataset.from_list(task_rows(...))`), paged by ListTasks."""
    rows: list[dict[str, Any]] = []
    with EnvClient(address) as client:
        start = 0
        while True:
            page = client.list_tasks(taskset, split, start)
            rows += [{"prompt": t.fields["prompt"], "task_id": t.id} for t in page.tasks]
            if page.last or not page.tasks:
                return rows
            start = page.next_start


def make_rollout_func(
    address: str,
    *,
    policy: Policy | None = None,
    tokenizer: Tokenizer | None = None,
    split: str = "train",
    max_turns: int = MAX_TURNS,
) -> Callable[[list[str], Any], dict[str, list[Any]]]:
    """A `rollout_func` for GRPOTrainer playing the env at `address`. Each prompt names its
    task by containing the task's prompt (a chat template around it is fine). Without a
    `tokenizer`, the trainer's `processing_class` is used, else `ByteTokenizer`."""
    by_prompt = {row["prompt"]: row["task_id"] for row in task_rows(address, split)}
    chosen = policy or RandomPolicy()

    def task_of(prompt: str) -> tuple[str, str]:
        for text, task_id in by_prompt.items():
            if text in prompt:
                return text, task_id
        raise ValueError(f"no task of split {split!r} has a prompt in {prompt[:80]!r}")

    def rollout_func(prompts: list[str], trainer: Any = None) -> dict[str, list[Any]]:
        tokens = tokenizer or _tokenizer_of(trainer)
        episodes = asyncio.run(_play_all(address, [task_of(p) for p in prompts], chosen, max_turns))
        out: dict[str, list[Any]] = {
            key: [] for key in ("prompt_ids", "completion_ids", "logprobs", "env_reward")
        }
        out["task_id"] = []
        for prompt, (turns, reward, task_id) in zip(prompts, episodes, strict=True):
            completion_ids: list[int] = []
            logprobs: list[float] = []
            for k, turn in enumerate(turns):
                ids = tokens.encode(turn.command + ("\n" if k < len(turns) - 1 else ""))
                completion_ids += ids
                logprobs += [turn.logprob] + [0.0] * (len(ids) - 1) if ids else []
            out["prompt_ids"].append(tokens.encode(prompt))
            out["completion_ids"].append(completion_ids)
            out["logprobs"].append(logprobs)
            out["env_reward"].append(reward)
            out["task_id"].append(task_id)
        return out

    return rollout_func


def env_reward_func(completions: list[Any], env_reward: list[float], **_: Any) -> list[float]:
    """A GRPO reward function: the env's reward of each completion's episode (TRL passes
    the rollout's `env_reward` field by name)."""
    return [float(reward) for reward in env_reward]


def _tokenizer_of(trainer: Any) -> Tokenizer:
    found = getattr(trainer, "processing_class", None)
    return found if found is not None and hasattr(found, "encode") else ByteTokenizer()


async def _play_all(
    address: str, tasks: list[tuple[str, str]], policy: Policy, max_turns: int
) -> list[tuple[list[Turn], float, str]]:
    async with AsyncEnvClient(address) as client:
        return await asyncio.gather(
            *(_play(client, text, task_id, policy, max_turns) for text, task_id in tasks)
        )


async def _play(
    client: AsyncEnvClient, prompt: str, task_id: str, policy: Policy, max_turns: int
) -> tuple[list[Turn], float, str]:
    """One episode on its own stream: the policy's turns and the episode's reward."""
    turns: list[Turn] = []
    transcript: Transcript = []
    reward = 0.0
    async with await client.stream() as env:
        await env.reset(task=task_id)
        for _ in range(max_turns):
            turn = policy(prompt, transcript)
            turns.append(turn)
            step = await env.step(turn.command)
            reward += step.reward
            transcript.append((turn.command, str(step.observation)))
            if step.done:
                break
    return turns, reward, task_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", nargs="?", default="localhost:50051")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prompts = [row["prompt"] for row in task_rows(args.address)]
    rollout = make_rollout_func(args.address, policy=RandomPolicy(args.seed))
    result = rollout(prompts, None)
    for task_id, reward, ids in zip(
        result["task_id"], result["env_reward"], result["completion_ids"], strict=True
    ):
        print(f"{task_id:24} reward {reward:.1f}  {len(ids)} completion tokens")


if __name__ == "__main__":
    main()
