"""The floor of a Python grpc.aio bidi stream: EnvService.StepStream answering a canned reply.

No env, no session table, no codec on either side: what one message each
way costs in grpcio itself, the lower bound of any `AsyncStreamSession` step.

    python bench/grpc_floor.py    # logs "grpc floor serving on 127.0.0.1:PORT"
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)

from openenv_grpc.codec import encode_value
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

READY = "grpc floor serving on 127.0.0.1:{port}"


def canned_reply() -> pb.StepStreamResponse:
    """A step reply as our server sends it for the 16 B echo env."""
    reply = pb.StepStreamResponse()
    encode_value(np.zeros(16, np.uint8), out=reply.step_response.observation)
    reply.step_response.reward = 1.0
    return reply


class FloorServicer(pb_grpc.EnvServiceServicer):
    """Answers every stream request at once: a reset with the observation, the rest canned."""

    def __init__(self) -> None:
        self._reply = canned_reply()

    async def StepStream(
        self, request_iterator: AsyncIterator[pb.StepStreamRequest], context: Any
    ) -> AsyncIterator[pb.StepStreamResponse]:
        async for request in request_iterator:
            reply = pb.StepStreamResponse()
            if request.WhichOneof("request") == "reset_request":
                reply.reset_response.observation.CopyFrom(self._reply.step_response.observation)
            else:
                reply.CopyFrom(self._reply)
            reply.seq = request.seq
            yield reply


class FloorStream:
    """One raw StepStream, with the reset/step shape of the bench drivers.

    No codec, no result objects: against our server it measures our server
    alone; against the floor server, grpcio alone.
    """

    def __init__(self, stub: Any) -> None:  # an aio stub; grpc-stubs types it as a sync one
        self._call = stub.StepStream()
        self._step = pb.StepRequest()
        encode_value(1, out=self._step.action)

    async def reset(self) -> None:
        await self._call.write(
            pb.StepStreamRequest(seq=0, reset_request=pb.ResetRequest(new_session=pb.NewSession()))
        )
        await self._call.read()

    async def step(self, i: int) -> bool:
        await self._call.write(pb.StepStreamRequest(seq=i, step_request=self._step))
        await self._call.read()
        return False

    async def close(self) -> None:
        await self._call.done_writing()
        while await self._call.read() is not EOF:
            pass


async def stream_steps(address: str, n_steps: int, n_streams: int = 1) -> None:
    """Drive n_streams raw streams (reset, then n_steps steps each) against any server."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)

        async def one() -> None:
            stream = FloorStream(stub)
            await stream.reset()
            for i in range(n_steps):
                await stream.step(i)
            await stream.close()

        await asyncio.gather(*(one() for _ in range(n_streams)))


async def serve() -> None:
    server = grpc.aio.server()
    servicer = FloorServicer()  # type: ignore[abstract]  # only StepStream is served
    pb_grpc.add_EnvServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(READY.format(port=port), flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve())
