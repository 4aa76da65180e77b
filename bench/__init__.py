"""Benchmarks of openenv-grpc side by side with OpenEnv (PyPI `openenv`) itself.

A package so that uvicorn can import `bench.openenv_servers` from the
repository root; `python bench/run.py` is the entry point.

The bench's own clients (ours, and the bare grpc.aio floor's) run in the
bench process, so it makes grpc's I/O choice as a trainer importing
`openenv_grpc` would (`openenv_grpc.grpc_io`), before any bench module
imports grpc; the floor's server gets the same choice from its environment.
"""

import openenv_grpc  # noqa: F401  # before grpc: grpc_io's choice of socket I/O
