"""Tests of deploy/k8s on a real API server (a package, so its conftest is `k8s.conftest`)."""
