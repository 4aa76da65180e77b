"""Benchmarks of openenv-grpc side by side with OpenEnv (openenv-core) itself.

A package so that uvicorn can import `bench.openenv_servers` from the
repository root; `python bench/run.py` is the entry point.
"""
