"""Turn an ENV argument of the CLI into a factory of Environments.

Accepted forms:
  gymnasium:CartPole-v1        a registered Gymnasium env id
  openenv:package.module:Env   an OpenEnv `Environment` class (or a callable
                               making one), served through adapters/openenv.py;
                               `openenv:package.module:Env:Action:Observation`
                               names its pydantic types too
  package.module:attr          an importable callable
  path/to/file.py:attr         a callable in a Python file
  conformance                  the short name of an env shipped in
                               `openenv_grpc.envs` (its `SHIPPED` table
                               maps each name to its package.module:attr)
The callable is an `Environment` subclass or any function that returns an
`Environment` or a `gymnasium.Env` (which is then wrapped).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from .adapters.gymnasium import GymnasiumEnvironment, gymnasium_factory
from .env import EnvFactory, Environment, takes_keyword
from .envs import SHIPPED

DEFAULT_ENV = "gymnasium:CartPole-v1"


class EnvSpecError(ValueError):
    """The ENV argument names nothing that makes environments."""


def load_env_factory(spec: str) -> EnvFactory:
    """The factory an ENV argument names."""
    prefix, sep, name = SHIPPED.get(spec, spec).partition(":")
    if not sep or not prefix or not name:
        raise EnvSpecError(
            f"ENV {spec!r} is not of the form gymnasium:ID, package.module:callable "
            f"or path/to/file.py:callable, nor a shipped env ({', '.join(sorted(SHIPPED))})"
        )
    if prefix == "gymnasium":
        try:
            return gymnasium_factory(name)
        except gym.error.Error as exc:
            raise EnvSpecError(f"no Gymnasium env {name!r}: {exc}") from exc
    if prefix == "openenv":
        return _openenv_factory(spec, name)
    target = _attribute(_import(prefix), prefix, name)
    if not callable(target):
        raise EnvSpecError(f"{spec} is not callable")
    if takes_keyword(target, "render_mode"):  # passed on, so clients may ask for frames
        return lambda render_mode=None: _as_environment(target(render_mode=render_mode), spec)
    return lambda: _as_environment(target(), spec)


def _openenv_factory(spec: str, name: str) -> EnvFactory:
    """An OpenEnv env's factory: `module:Env[:Action:Observation]` (all in the module)."""
    parts = name.split(":")
    if len(parts) not in (2, 4) or not all(parts):
        raise EnvSpecError(
            f"ENV {spec!r} is not of the form openenv:package.module:EnvClass "
            "or openenv:package.module:EnvClass:ActionClass:ObservationClass"
        )
    module = _import(parts[0])
    env, *types = (_attribute(module, parts[0], attr) for attr in parts[1:])
    from .adapters.openenv import openenv_factory  # imports openenv (and gradio): only here

    return openenv_factory(env, *types)


def _attribute(module: Any, prefix: str, name: str) -> Any:
    target: Any = module
    for part in name.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise EnvSpecError(f"{prefix} has no attribute {name!r}") from None
    return target


def _import(prefix: str) -> Any:
    if prefix.endswith(".py"):
        path = pathlib.Path(prefix).resolve()
        if not path.is_file():
            raise EnvSpecError(f"no such file: {prefix}")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        module_name = f"_openenv_env_{path.stem}_{digest}"  # unique per file, not per name
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise EnvSpecError(f"cannot import {prefix}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(prefix)
    except ImportError as exc:
        raise EnvSpecError(f"cannot import module {prefix!r}: {exc}") from exc


def _as_environment(made: Any, spec: str) -> Environment:
    if isinstance(made, Environment):
        return made
    if isinstance(made, gym.Env):
        return GymnasiumEnvironment(made)
    raise EnvSpecError(
        f"{spec} returned a {type(made).__name__}; it must return an "
        "openenv_grpc.Environment or a gymnasium.Env"
    )


def load_callable(spec: str) -> Callable[..., Any]:
    """The callable that `package.module:attr` or `path/to/file.py:attr` names (the
    `--reward` hook); EnvSpecError when it names none."""
    prefix, sep, name = spec.partition(":")
    if not sep or not prefix or not name:
        raise EnvSpecError(
            f"{spec!r} is not of the form package.module:function or path/to/file.py:function"
        )
    target = _attribute(_import(prefix), prefix, name)
    if not callable(target):
        raise EnvSpecError(f"{spec} is not callable")
    return target  # type: ignore[no-any-return]
