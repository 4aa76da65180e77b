"""The playground's web app: the page, its assets, and two WebSockets.

`/ws/play` is one page's session: the page sends `{"op": "reset"}`,
`{"op": "step", "action": ...}` and `{"op": "tool", "name": ..., "arguments":
{...}}`, and gets each answer as JSON (see `backend.Play`); the session is
closed when the page goes. `/ws/watch?session_id=ID&fps=N` forwards a
session's WatchSession events until the session ends or the page goes.
Every asset is a file of this package: the page loads nothing from elsewhere.

A WebSocket is not bound by the browser's same-origin rule, so one opened by
another site's page is refused (its Origin is not this host): else any page a
person visits could drive sessions with the playground's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import EnvError, InvalidArgument
from .backend import Play, Remote, error_json, watch_json

STATIC = pathlib.Path(__file__).parent / "static"
POLICY_VIOLATION = 1008  # WebSocket close code for a refused origin


def create_app(remote: Remote) -> Starlette:
    """The playground for one env server."""

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def spec(request: Request) -> JSONResponse:
        return JSONResponse((await remote.spec()).json)

    async def play(websocket: WebSocket) -> None:
        if not await _accepted(websocket):
            return
        spec = await remote.spec()
        await _send(websocket, {"type": "spec", **spec.json})
        game = Play(remote, spec)
        try:
            while True:
                message = await websocket.receive_json()
                await _send(websocket, await _answer(game, message))
        except WebSocketDisconnect:
            pass
        finally:
            with contextlib.suppress(EnvError):
                await game.close()

    async def watch(websocket: WebSocket) -> None:
        if not await _accepted(websocket):
            return
        session_id = websocket.query_params.get("session_id", "")
        try:
            fps = float(websocket.query_params.get("fps", "10"))
        except ValueError:
            fps = -1.0  # the server says what is wrong with it

        async def forward() -> None:
            try:
                async for event in watch_json(remote, session_id, fps):
                    await _send(websocket, event)
            except EnvError as exc:
                await _send(websocket, error_json(exc, "watch"))

        pump = asyncio.ensure_future(forward())
        gone = asyncio.ensure_future(websocket.receive())  # the page leaving ends the watch
        try:
            await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, gone):
                task.cancel()
            await asyncio.gather(pump, gone, return_exceptions=True)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/spec", spec),
            WebSocketRoute("/ws/play", play),
            WebSocketRoute("/ws/watch", watch),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


async def _answer(game: Play, message: Any) -> dict[str, Any]:
    op = message.get("op", "") if isinstance(message, dict) else ""
    try:
        if op == "reset":
            seed = message.get("seed")
            return await game.reset(None if seed in (None, "") else int(seed))
        if op == "step":
            return await game.step(message.get("action"))
        if op == "tool":
            arguments = message.get("arguments") or {}
            if not isinstance(arguments, dict):
                raise InvalidArgument("a tool's arguments are a JSON object")
            return await game.tool(str(message.get("name", "")), arguments)
        raise InvalidArgument(f"unknown op {str(op)[:32]!r}; send reset, step or tool")
    except EnvError as exc:
        return error_json(exc, op)
    except (TypeError, ValueError) as exc:
        return error_json(InvalidArgument(str(exc)), op)


async def _accepted(websocket: WebSocket) -> bool:
    """Accept a WebSocket from this playground's own pages; refuse another site's."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host", "")
    if origin is not None and urlsplit(origin).netloc != host:
        await websocket.close(code=POLICY_VIOLATION)
        return False
    await websocket.accept()
    return True


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, allow_nan=False))
