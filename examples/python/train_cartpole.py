"""Train a linear CartPole policy against a remote env, by hill climbing.

The env runs on an openenv-grpc server; here it is an ordinary Gymnasium env
(`RemoteEnv`) under an ordinary wrapper (`RecordEpisodeStatistics`), which is
the point: trainer code does not change when the simulator moves to another
process or machine. The learner is deliberately tiny (numpy only): push right
when `w . obs > 0`, perturb the 4 weights, keep the perturbation when its mean
return over a few episodes is at least the best so far.

    openenv-grpc serve gymnasium:CartPole-v1 --port 50051   # one terminal
    python examples/python/train_cartpole.py                 # another
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from openenv_grpc.client.gym import RemoteEnv

Weights = npt.NDArray[np.float64]


def evaluate(env: gym.Env[Any, Any], weights: Weights, seeds: list[int]) -> float:
    """Mean return of the threshold policy over one episode per seed."""
    returns = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        while "episode" not in info:  # RecordEpisodeStatistics adds it when the episode ends
            action = int(np.dot(weights, obs) > 0)
            obs, _, _, _, info = env.step(action)
        returns.append(float(info["episode"]["r"]))
    return float(np.mean(returns))


def main(argv: list[str] | None = None) -> float:
    """Hill-climb for --iterations rounds; return (and print) the best mean return."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="localhost:50051", help="host:port of the server")
    parser.add_argument("--iterations", type=int, default=20, help="candidates to try")
    parser.add_argument("--episodes-per-eval", type=int, default=3, help="episodes per candidate")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and every reset")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    n = args.episodes_per_eval
    # Reset seeds come from --seed, so a run is reproducible; each round gets fresh
    # ones, so a candidate must do well on episodes it was not chosen on.
    seeds = [
        [args.seed * 1_000_003 + i * n + k for k in range(n)] for i in range(args.iterations + 1)
    ]
    env = gym.wrappers.RecordEpisodeStatistics(RemoteEnv(args.address))
    try:
        best = rng.uniform(-1.0, 1.0, size=4)
        best_score = evaluate(env, best, seeds[0])
        print(f"start    mean return {best_score:6.1f}")
        noise = 0.5
        for i in range(1, args.iterations + 1):
            candidate = best + noise * rng.normal(size=4)
            score = evaluate(env, candidate, seeds[i])
            if score >= best_score:  # accept, and search closer to the new best
                best, best_score, noise = candidate, score, max(noise / 2, 0.01)
            else:  # widen the search after a miss
                noise = min(noise * 2, 2.0)
            print(f"iter {i:3d} mean return {score:6.1f}  best {best_score:6.1f}")
    finally:
        env.close()
    print(f"best mean return {best_score:.1f} with weights {np.round(best, 3).tolist()}")
    return best_score


if __name__ == "__main__":
    main()
