"""Gymnasium's autoreset modes and the contract's AutoresetMode enum, both ways.

Apart from `vector.py` so that the batched env logic (and the session table
above it) loads no service messages: only the transports translate.
"""

from __future__ import annotations

from gymnasium.vector import AutoresetMode

from openenv_proto.v1 import env_service_pb2 as pb

AUTORESET_TO_PROTO: dict[AutoresetMode, pb.AutoresetMode.ValueType] = {
    AutoresetMode.NEXT_STEP: pb.AUTORESET_MODE_NEXT_STEP,
    AutoresetMode.SAME_STEP: pb.AUTORESET_MODE_SAME_STEP,
    AutoresetMode.DISABLED: pb.AUTORESET_MODE_DISABLED,
}
AUTORESET_FROM_PROTO: dict[pb.AutoresetMode.ValueType, AutoresetMode] = {
    pb.AUTORESET_MODE_UNSPECIFIED: AutoresetMode.NEXT_STEP,
    **{proto: mode for mode, proto in AUTORESET_TO_PROTO.items()},
}
