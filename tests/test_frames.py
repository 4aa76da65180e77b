"""Render and WatchSession: frames equal the local env's, watchers never hold up a trainer.

Real servers on loopback, real clients (RemoteEnv, EnvClient, raw stubs);
Gymnasium's CartPole and FrozenLake as the local references.
"""

from __future__ import annotations

import asyncio
import pathlib
import threading

import grpc
import gymnasium as gym
import numpy as np
import pytest

from openenv_grpc import errors, images
from openenv_grpc.adapters.gymnasium import gymnasium_factory
from openenv_grpc.client import EnvClient, RemoteEnv
from openenv_grpc.client.frames import WatchStarted, watch_event
from openenv_grpc.server import EnvServer, ServerConfig
from openenv_grpc.server.app import EnvFactoryFailed
from openenv_grpc.watch import MAX_EVENTS, Ended, EpisodeStarted, Rendered, Stepped, Watch, Watcher
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import frames_pb2

from conftest import StartServer
from frameenvs import BigPainter, Painter, painted
from serverutil import ServerThread

CARTPOLE = gymnasium_factory("CartPole-v1")


def test_remote_render_equals_the_local_env_pixel_for_pixel(start_server: StartServer) -> None:
    server = start_server(CARTPOLE)
    remote = RemoteEnv(server.address, render_mode="rgb_array")
    local = gym.make("CartPole-v1", render_mode="rgb_array")
    try:
        remote.reset(seed=7)
        local.reset(seed=7)
        done, steps = False, 0
        while not done:
            frame, expected = remote.render(), local.render()
            assert frame.shape == (400, 600, 3)
            assert frame.dtype == np.uint8
            assert np.array_equal(frame, expected)
            remote.step(steps % 2)
            done = any(local.step(steps % 2)[2:4])
            steps += 1
        assert np.array_equal(remote.render(), local.render())  # the last frame too
    finally:
        remote.close()
        local.close()


def test_png_frames_are_the_same_pixels_and_jpeg_nearly(start_server: StartServer) -> None:
    server = start_server(CARTPOLE)
    with EnvClient(server.address) as client:
        session = client.reset(seed=3, render_mode="rgb_array").session_id
        client.step(session, 1)
        raw = client.render(session)
        assert np.array_equal(client.render(session, "png"), raw)
        jpeg = client.render(session, "jpeg", jpeg_quality=95)
        assert jpeg.shape == raw.shape
        assert np.abs(jpeg.astype(int) - raw).mean() < 2
        request = frames_pb2.RenderRequest(
            session_id=session, encoding=frames_pb2.FRAME_ENCODING_PNG
        )
        stub = pb_grpc.EnvServiceStub(grpc.insecure_channel(server.address))
        image = stub.Render(request).frame.image
        assert (image.media_type, image.width, image.height) == ("image/png", 600, 400)
        assert len(image.data) < raw.nbytes // 20  # a CartPole frame is mostly white


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4)])
def test_png_encoder_round_trips_every_image_kind(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    decoded = images.decode(images.png(image))
    assert np.array_equal(decoded.reshape(shape), image)


def test_text_frames_and_no_frames(start_server: StartServer) -> None:
    server = start_server(gymnasium_factory("FrozenLake-v1", is_slippery=False))
    remote = RemoteEnv(server.address, render_mode="ansi")
    plain = RemoteEnv(server.address)
    local = gym.make("FrozenLake-v1", render_mode="ansi", is_slippery=False)
    try:
        remote.reset(seed=1)
        plain.reset(seed=1)
        local.reset(seed=1)
        for action in (2, 2, 1):  # right, right, down: around the holes
            remote.step(action)
            local.step(action)
            assert remote.render() == local.render()
        assert plain.render() is None  # Gymnasium: no render mode, no frame
        with EnvClient(server.address) as client:
            session = client.reset().session_id
            assert client.render(session) is None
    finally:
        remote.close()
        plain.close()
        local.close()


@pytest.mark.parametrize("mode", ["human", "depth", "rgb_array_list"])
def test_a_render_mode_the_server_cannot_make_is_refused(
    start_server: StartServer, mode: str
) -> None:
    server = start_server(CARTPOLE)
    with EnvClient(server.address) as client, pytest.raises(errors.InvalidArgument) as caught:
        client.reset(render_mode=mode)
    assert caught.value.reason == "INVALID_REQUEST"
    assert caught.value.metadata["field"] == "new_session.render_mode"
    assert "rgb_array" in caught.value.message


def test_record_video_around_a_remote_env_writes_an_mp4(
    start_server: StartServer, tmp_path: pathlib.Path
) -> None:
    import imageio_ffmpeg  # the ffmpeg moviepy writes with, shipped in its wheel

    server = start_server(CARTPOLE)
    env = gym.wrappers.RecordVideo(
        RemoteEnv(server.address, render_mode="rgb_array"),
        video_folder=str(tmp_path),
        episode_trigger=lambda episode: True,
        disable_logger=True,
    )
    env.reset(seed=0)
    steps = 0
    done = False
    while not done and steps < 40:
        _, _, terminated, truncated, _ = env.step(steps % 2)
        done, steps = terminated or truncated, steps + 1
    env.close()
    videos = sorted(tmp_path.glob("*.mp4"))
    assert videos, list(tmp_path.iterdir())
    assert videos[0].read_bytes()[4:8] == b"ftyp"  # an MP4 container
    reader = imageio_ffmpeg.read_frames(str(videos[0]))
    meta = next(reader)
    assert meta["size"] == (600, 400)  # width, height
    assert sum(1 for _ in reader) == steps + 1  # the reset's frame, then one per step


def test_a_watcher_sees_the_steps_and_frames_of_a_session(start_server: StartServer) -> None:
    server = start_server(Painter)
    with EnvClient(server.address) as trainer, EnvClient(server.address) as viewer:
        session = trainer.reset(render_mode="rgb_array").session_id
        events = viewer.watch(session, max_fps=1000, frame_encoding="png")
        start = next(events)
        assert start.event == WatchStarted(
            session, start.event.episode_id, 0, False, "rgb_array", 30
        )
        trainer.reset(session_id=session)
        for k in range(12):
            trainer.step(session, k % 3)
        trainer.close_session(session)
        seen = [watched.event for watched in events]
    assert isinstance(seen[0], EpisodeStarted)
    steps = [e for e in seen if isinstance(e, Stepped)]
    assert [s.step_index for s in steps] == list(range(1, 13))
    assert [s.action for s in steps] == [k % 3 for k in range(12)]
    assert steps[4].reward_components == {"paint": 1.0, "bonus": 0.5}
    frames = [e for e in seen if isinstance(e, Rendered)]
    assert frames  # the first step after watching began is due a frame at once
    for frame in frames:
        assert np.array_equal(frame.frame, painted(frame.step_index))
    assert seen[-1] == Ended("closed by the client")


def test_summaries_only_cost_no_render(start_server: StartServer) -> None:
    server = start_server(Painter)
    with EnvClient(server.address) as client:
        session = client.reset(render_mode="rgb_array").session_id
        events = client.watch(session, max_fps=0)
        assert next(events).event.max_fps == 0  # type: ignore[union-attr]
        before = Painter.renders
        for _ in range(5):
            client.step(session, 1)
        client.close_session(session)
        seen = [w.event for w in events]
    assert Painter.renders == before
    assert sum(isinstance(e, Stepped) for e in seen) == 5
    assert not any(isinstance(e, Rendered) for e in seen)


def test_a_stalled_watcher_holds_up_nothing_and_holds_little(start_server: StartServer) -> None:
    """A watcher that reads one message and then nothing: the trainer's steps all go
    through, the server keeps at most MAX_EVENTS of its events and renders no more for it
    once a frame waits for it; when it reads again it learns how many it missed."""
    server = start_server(BigPainter)
    with EnvClient(server.address) as trainer:
        session = trainer.reset(render_mode="rgb_array").session_id
        stub = pb_grpc.EnvServiceStub(grpc.insecure_channel(server.address))
        call = stub.WatchSession(frames_pb2.WatchSessionRequest(session_id=session, max_fps=30))
        assert next(call).HasField("start")
        steps = 3 * MAX_EVENTS
        stream = trainer.stream()
        stream.attach(session)
        for _ in range(steps):
            stream.step(1)
        held = server.call(lambda: _held(server, session))
        assert held <= MAX_EVENTS
        stream.close()
        trainer.close_session(session)
        messages = list(call)
    summaries = [m for m in messages if m.HasField("step")]
    assert len(summaries) < steps
    assert sum(m.dropped for m in messages) >= steps - len(summaries)
    assert messages[-1].HasField("end")


def _held(server: ServerThread, session_id: str) -> int:
    session = server.server.sessions.get(session_id)
    assert session.watch is not None
    (watcher,) = session.watch.watchers
    return len(watcher._events)


def test_a_watcher_mailbox_drops_the_oldest_and_renders_once_until_read() -> None:
    """The mechanism itself, on a clock that never stands still: a watcher that does not
    read is rendered one frame, and holds MAX_EVENTS events, the rest counted as dropped."""

    async def main() -> tuple[int, int, int]:
        ticks = iter(range(10**6))
        watch = Watch(asyncio.get_running_loop(), "rgb_array", clock=lambda: float(next(ticks)))
        watcher = Watcher(max_fps=30)
        watch.add(watcher)
        env = Painter()
        env.render_mode = "rgb_array"
        before = Painter.renders
        for k in range(1, 1001):
            watch.called(env, Stepped("e", k, 1, 1.0, False, False), "e", k)
        await asyncio.sleep(0)  # let the loop run the published events
        renders = Painter.renders - before
        held = len(watcher._events)
        _, dropped = await watcher.get()
        return renders, held, dropped

    renders, held, dropped = asyncio.run(main())
    assert renders == 1
    assert held == MAX_EVENTS
    assert dropped == 1001 - MAX_EVENTS  # 1000 steps and 1 frame were put


def test_only_the_owner_or_an_admin_may_watch(
    start_server: StartServer, tmp_path: pathlib.Path
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\nbob bob-token\nops ops-token admin\n")
    server = start_server(Painter, tokens_file=tokens)
    alice = EnvClient(server.address, token="alice-token")
    bob = EnvClient(server.address, token="bob-token")
    ops = EnvClient(server.address, token="ops-token")
    try:
        session = alice.reset(render_mode="ansi").session_id
        with pytest.raises(errors.NotFound):
            next(bob.watch(session))
        with pytest.raises(errors.NotFound):
            bob.render(session)
        with pytest.raises(errors.NotFound):  # rendering stays the owner's
            ops.render(session)
        events = ops.watch(session, max_fps=30)
        assert isinstance(next(events).event, WatchStarted)
        alice.step(session, 2)
        alice.close_session(session)
        seen = [w.event for w in events]
        assert [type(e) for e in seen if not isinstance(e, Rendered)] == [
            Stepped,
            Ended,
        ]
        texts = [e.frame for e in seen if isinstance(e, Rendered)]
        assert texts == ["count=1\n"]
    finally:
        for client in (alice, bob, ops):
            client.close()


def test_a_principal_has_one_role(tmp_path: pathlib.Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("ops t1 admin\nops t2\n")
    with pytest.raises(ValueError, match="another role"):
        EnvServer(Painter, ServerConfig(tokens_file=tokens))
    tokens.write_text("ops t1 root\n")
    with pytest.raises(ValueError, match="PRINCIPAL TOKEN admin"):
        EnvServer(Painter, ServerConfig(tokens_file=tokens))


def test_a_failing_render_is_an_env_error_and_the_session_goes_on(
    start_server: StartServer,
) -> None:
    server = start_server(Painter)
    with EnvClient(server.address) as client:
        session = client.reset(render_mode="rgb_array", options={"broken": True}).session_id
        events = client.watch(session, max_fps=30)
        next(events)
        with pytest.raises(errors.Internal) as caught:
            client.render(session)
        assert caught.value.reason == "ENV_ERROR"
        assert "brush" in caught.value.message
        assert client.step(session, 1).observation.tolist() == [1]  # the session goes on
        client.close_session(session)
        seen = [w.event for w in events]
    failed = [e for e in seen if isinstance(e, Rendered) and e.error is not None]
    assert failed
    assert getattr(failed[0].error, "reason", "") == "ENV_ERROR"
    assert sum(isinstance(e, Stepped) for e in seen) == 1


def test_watch_refuses_what_it_cannot_do(start_server: StartServer) -> None:
    server = start_server(Painter)
    stub = pb_grpc.EnvServiceStub(grpc.insecure_channel(server.address))
    with EnvClient(server.address) as client:
        batched = client.reset_batch(2).session_id
        with pytest.raises(errors.FailedPrecondition) as kind:
            next(client.watch(batched))
        assert kind.value.reason == "WRONG_SESSION_KIND"
        single = client.reset().session_id
        for fps in (-1.0, float("nan")):
            with pytest.raises(grpc.RpcError) as caught:
                next(
                    stub.WatchSession(
                        frames_pb2.WatchSessionRequest(session_id=single, max_fps=fps)
                    )
                )
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(errors.NotFound):
            next(client.watch("no-such-session"))
        # no render mode: a watch says so, and sends no frames
        events = client.watch(single, max_fps=30)
        start = next(events).event
        assert isinstance(start, WatchStarted)
        assert (start.render_mode, start.max_fps) == ("", 0)
        events.close()


def test_a_server_default_render_mode_lets_watchers_see_any_session(
    start_server: StartServer,
) -> None:
    server = start_server(Painter, render_mode="rgb_array")
    remote = RemoteEnv(server.address)  # a trainer that asks for no render mode
    try:
        remote.reset()
        with EnvClient(server.address) as viewer:
            events = viewer.watch(remote.session_id, max_fps=30)
            assert next(events).event.render_mode == "rgb_array"  # type: ignore[union-attr]
            remote.step(0)
            remote.close()
            seen = [w.event for w in events]
        assert any(isinstance(e, Rendered) for e in seen)
        assert remote.render() is None  # the trainer asked for none: Gymnasium's answer
    finally:
        remote.close()
    with pytest.raises(EnvFactoryFailed, match="--render-mode 'human'"):
        ServerThread(Painter, ServerConfig(host="127.0.0.1", port=0, render_mode="human"))


def test_render_on_a_stream_and_watch_events_decode() -> None:
    message = frames_pb2.WatchSessionResponse(dropped=3)
    message.step.step_index = 2
    message.step.action.int_value = 1
    watched = watch_event(message)
    assert watched.dropped == 3
    assert watched.event.step_index == 2
    request = pb.StepStreamRequest()
    request.render_request.encoding = frames_pb2.FRAME_ENCODING_PNG
    assert request.WhichOneof("request") == "render_request"


def test_two_watchers_each_see_every_step_in_order(
    start_server: StartServer,
) -> None:
    """Two watchers at once each see every step of a session in order."""
    server = start_server(Painter)
    with EnvClient(server.address) as client:
        session = client.reset(render_mode="rgb_array").session_id
        watchers = [client.watch(session, max_fps=5) for _ in range(2)]
        for events in watchers:
            next(events)
        results: list[list[int]] = [[], []]

        def read(i: int) -> None:
            results[i] = [w.event.step_index for w in watchers[i] if isinstance(w.event, Stepped)]

        readers = [threading.Thread(target=read, args=(i,)) for i in range(2)]
        for reader in readers:
            reader.start()
        for _ in range(30):
            client.step(session, 1)
        client.close_session(session)
        for reader in readers:
            reader.join(timeout=30)
    assert results == [list(range(1, 31))] * 2
