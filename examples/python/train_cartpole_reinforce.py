"""Learn CartPole with REINFORCE, in numpy, through a batched `RemoteVectorEnv`.

The sub-envs live on an openenv-grpc server, stepped together: one message
each way per step of all of them. The trainer is the textbook one: a linear
softmax policy, whole episodes, discounted returns-to-go normalised over the
batch as the advantage, Adam. It stops when the mean return of the last 100
episodes reaches --target (195, the classic "solved"; the env's cap is 500),
or after --max-steps env steps, and draws its learning curve to --plot (PNG).

    openenv-grpc serve gymnasium:CartPole-v1 --port 50051         # one terminal
    python examples/python/train_cartpole_reinforce.py --plot curve.png
"""

from __future__ import annotations

import argparse
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from PIL import Image, ImageDraw

from openenv_grpc.client import RemoteVectorEnv

Array = npt.NDArray[np.float64]
WINDOW = 100  # episodes in the moving mean, as "solved" counts them


@dataclass
class Run:
    """What a training run did: every finished episode's return and when it ended."""

    returns: list[float] = field(default_factory=list)
    ended_at: list[int] = field(default_factory=list)  # env steps so far, per episode
    steps: int = 0
    updates: int = 0

    def mean(self, last: int = WINDOW) -> float:
        """The mean return of the last `last` episodes (0.0 before any)."""
        return float(np.mean(self.returns[-last:])) if self.returns else 0.0


class Policy:
    """pi(a | s) = softmax(s @ W + b): two actions, four observations."""

    def __init__(self, rng: np.random.Generator, n_obs: int = 4, n_actions: int = 2) -> None:
        self.params = [rng.normal(0.0, 0.1, (n_obs, n_actions)), np.zeros(n_actions)]

    def probs(self, obs: Array) -> Array:
        logits = obs @ self.params[0] + self.params[1]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs: Array = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def gradient(self, obs: Array, actions: npt.NDArray[np.int64], advantage: Array) -> list[Array]:
        """The gradient of mean(advantage * log pi(action | obs)) with respect to W and b."""
        chosen = np.eye(self.params[1].size)[actions]
        dlogits = (chosen - self.probs(obs)) * advantage[:, None] / len(actions)
        return [obs.T @ dlogits, dlogits.sum(axis=0)]


class Adam:
    """Adam, ascending: step() moves the parameters up the gradient."""

    def __init__(self, params: list[Array], lr: float, b1: float = 0.9, b2: float = 0.999) -> None:
        self.params, self.lr, self.b1, self.b2 = params, lr, b1, b2
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[Array]) -> None:
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            m_hat, v_hat = m / (1 - self.b1**self.t), v / (1 - self.b2**self.t)
            p += self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def returns_to_go(rewards: list[float], gamma: float) -> Array:
    """G_t = r_t + gamma * G_{t+1}, for one episode."""
    out = np.empty(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def train(
    envs: VectorEnv[Any, Any, Any],
    *,
    seed: int,
    lr: float,
    gamma: float,
    batch_episodes: int,
    max_steps: int,
    target: float,
) -> Run:
    """REINFORCE on a vector env whose autoreset mode is SAME_STEP."""
    rng = np.random.default_rng(seed)
    policy = Policy(rng)
    adam = Adam(policy.params, lr)
    n = envs.num_envs
    obs, _ = envs.reset(seed=seed)
    # Per sub-env, the episode under way: observations, actions, rewards.
    going: list[tuple[list[Array], list[int], list[float]]] = [([], [], []) for _ in range(n)]
    finished: list[tuple[list[Array], list[int], list[float]]] = []
    run = Run()
    while run.steps < max_steps and not (len(run.returns) >= WINDOW and run.mean() >= target):
        actions = (rng.random(n) < policy.probs(obs)[:, 1]).astype(np.int64)
        next_obs, rewards, terminated, truncated, _ = envs.step(actions)
        run.steps += n
        for i in range(n):
            going[i][0].append(obs[i])
            going[i][1].append(int(actions[i]))
            going[i][2].append(float(rewards[i]))
            if terminated[i] or truncated[i]:  # SAME_STEP: next_obs[i] already starts anew
                finished.append(going[i])
                run.returns.append(sum(going[i][2]))
                run.ended_at.append(run.steps)
                going[i] = ([], [], [])
        obs = next_obs
        if len(finished) >= batch_episodes:
            states = np.array([o for episode in finished for o in episode[0]])
            taken = np.array([a for episode in finished for a in episode[1]], dtype=np.int64)
            gains = np.concatenate([returns_to_go(episode[2], gamma) for episode in finished])
            advantage = (gains - gains.mean()) / (gains.std() + 1e-8)
            adam.step(policy.gradient(states, taken, advantage))
            run.updates += 1
            finished = []
    return run


def plot(run: Run, path: pathlib.Path, target: float, title: str) -> None:
    """The learning curve as a PNG: each episode's return, the moving mean, the target."""
    width, height, left, right, top, bottom = 800, 480, 70, 20, 50, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    x_max = max(run.steps, 1)
    y_max = 500.0  # CartPole-v1's cap

    def at(step: float, value: float) -> tuple[float, float]:
        x = left + (width - left - right) * step / x_max
        y = height - bottom - (height - top - bottom) * min(value, y_max) / y_max
        return x, y

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for tick in range(0, 501, 100):
        x, y = at(0, tick)
        draw.line([x - 5, y, x, y], fill="black")
        draw.text((x - 40, y - 6), f"{tick:>4}", fill="black")
    for k in range(5):
        step = x_max * k / 4
        x, y = at(step, 0)
        draw.line([x, y, x, y + 5], fill="black")
        draw.text((x - 20, y + 8), f"{int(step):,}", fill="black")
    _, y_target = at(0, target)
    for dash in range(left, width - right, 12):
        draw.line([dash, y_target, min(dash + 6, width - right), y_target], fill=(200, 0, 0))
    draw.text((width - right - 150, y_target - 14), f"target {target:g}", fill=(200, 0, 0))
    for ended, value in zip(run.ended_at, run.returns, strict=True):
        dot_x, dot_y = at(ended, value)
        draw.ellipse([dot_x - 1.5, dot_y - 1.5, dot_x + 1.5, dot_y + 1.5], fill=(140, 160, 225))
    means = [
        float(np.mean(run.returns[max(0, i - WINDOW + 1) : i + 1])) for i in range(len(run.returns))
    ]
    if len(means) > 1:
        draw.line(
            [at(s, m) for s, m in zip(run.ended_at, means, strict=True)], fill=(0, 60, 200), width=3
        )
    draw.text((left, 8), title, fill="black")
    draw.text((width // 2 - 50, height - 22), "environment steps", fill="black")
    draw.text((left, 28), "episode return (dots), mean of the last 100 (line)", fill="black")
    image.save(path, format="PNG")


def main(argv: list[str] | None = None) -> Run:
    """Train, print progress, draw the curve; return the run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="localhost:50051", help="host:port of the server")
    parser.add_argument("--num-envs", type=int, default=16, help="sub-envs stepped together")
    parser.add_argument("--seed", type=int, default=0, help="seeds the policy, sampling, resets")
    parser.add_argument("--lr", type=float, default=0.1, help="Adam's step size")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount")
    parser.add_argument("--batch-episodes", type=int, default=16, help="episodes per update")
    parser.add_argument("--max-steps", type=int, default=200_000, help="env steps at most")
    parser.add_argument("--target", type=float, default=195.0, help="stop at this mean return")
    parser.add_argument("--plot", type=pathlib.Path, default=None, help="write the curve here")
    args = parser.parse_args(argv)

    envs = RemoteVectorEnv(
        args.address, num_envs=args.num_envs, autoreset_mode=AutoresetMode.SAME_STEP
    )
    try:
        run = train(
            envs,
            seed=args.seed,
            lr=args.lr,
            gamma=args.gamma,
            batch_episodes=args.batch_episodes,
            max_steps=args.max_steps,
            target=args.target,
        )
    finally:
        envs.close()
    solved = len(run.returns) >= WINDOW and run.mean() >= args.target
    print(
        f"{'solved' if solved else 'stopped'} after {run.steps:,} env steps, "
        f"{len(run.returns)} episodes, {run.updates} updates: "
        f"mean return of the last {min(WINDOW, len(run.returns))} episodes {run.mean():.1f}"
    )
    if args.plot is not None:
        title = f"REINFORCE on CartPole-v1 via RemoteVectorEnv ({args.num_envs} sub-envs)"
        plot(run, args.plot, args.target, title)
        print(f"learning curve: {args.plot}")
    return run


if __name__ == "__main__":
    main()
