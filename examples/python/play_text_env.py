"""Play guess-the-number (text_env.py) over one stream, by binary search.

A stand-in for an LLM agent: it reads each observation, answers in a short
sentence (the env parses the number out of free text) and narrows the range
from the structured `info["hint"]` that rides along with the text. A stream
is the right transport for this: one session pinned to one server, one
message each way per turn.

    openenv-grpc serve examples/python/text_env.py:make_env --port 50052
    python examples/python/play_text_env.py --address localhost:50052
"""

from __future__ import annotations

import argparse

from openenv_grpc.client.client import EnvClient


def main(argv: list[str] | None = None) -> int:
    """Play one episode; return the number of steps it took to win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="localhost:50052", help="host:port of the server")
    parser.add_argument("--task", default="easy", help="task_id: easy or hard")
    parser.add_argument("--seed", type=int, default=1, help="picks the secret number")
    args = parser.parse_args(argv)

    with EnvClient(args.address) as client, client.stream() as env:
        print(f"# {client.spec.env_name} {client.spec.env_version}, task {args.task!r}")
        reply = env.reset(seed=args.seed, task_id=args.task)
        print(f"env:   {reply.observation}")
        low, high = reply.info["low"], reply.info["high"]
        while True:
            guess = (low + high) // 2
            answer = f"My guess is {guess}."
            print(f"agent: {answer}")
            step = env.step(answer)
            print(f"env:   {step.observation}  (reward {step.reward:g} {step.reward_components})")
            hint = step.info["hint"]
            if hint == "higher":
                low = guess + 1
            elif hint == "lower":
                high = guess - 1
            if step.done:
                break
        state = env.state()
        print(f"# state: {state.state}")
    if not step.terminated:
        raise SystemExit(f"lost after {step.step_index} steps")
    print(f"# won in {step.step_index} steps")
    return step.step_index


if __name__ == "__main__":
    main()
