"""Benchmarks of openenv-grpc side by side with OpenEnv (PyPI `openenv`) itself.

A package so that uvicorn can import `bench.openenv_servers` from the
repository root; `python bench/run.py` is the entry point.
"""
