"""How many sub-envs go to each server: by the room each one has now.

A server's room comes from its Describe: its limits (`Capabilities`) less
what it holds (`ServerLoad`, since 1.5). A server that is draining,
saturated, unreachable or full has none; one without limits has no end of
it. `spread` gives each server a share of the sub-envs in proportion to its
room (capped by it), and splits a share larger than a batched session may be
(`max_num_envs`) into several sessions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import Reason, ResourceExhausted
from .results import EnvSpec, ServerLoad


def room(spec: EnvSpec, load: ServerLoad) -> float:
    """How many more sub-envs the server takes now (math.inf: no limit)."""
    caps = spec.capabilities
    if load.draining or load.saturated or not caps.batched:
        return 0
    if caps.max_sessions and load.sessions >= caps.max_sessions:
        return 0
    return max(0, caps.max_envs - load.batched_envs) if caps.max_envs else math.inf


def spread(num_envs: int, rooms: Sequence[tuple[str, float, int]]) -> list[tuple[str, int]]:
    """Batched sessions for num_envs sub-envs over servers given as (address, room,
    max_num_envs), in order: [(address, size), ...], shares in proportion to the
    rooms. ResourceExhausted (ENV_LIMIT) when all of them together have less room than that."""
    # No end of room counts as the most any server has (or num_envs, if more).
    most_room = max([num_envs, *(space for _, space, _ in rooms if space < math.inf)])
    usable = [
        (address, min(space, most_room), most) for address, space, most in rooms if space >= 1
    ]
    total = sum(space for _, space, _ in usable)
    if total < num_envs:
        have = ", ".join(f"{address}: {space:g}" for address, space, _ in rooms) or "none"
        raise ResourceExhausted(
            f"the servers have room for {total:g} more sub-envs, {num_envs} are needed "
            f"(room per server: {have}); add servers or raise their --max-envs",
            reason=Reason.ENV_LIMIT,
            metadata={"needed": str(num_envs), "room": f"{total:g}"},
        )
    shares = [int(num_envs * space // total) for _, space, _ in usable]
    # What rounding down left over goes, one each, to the largest remainders with room.
    order = sorted(
        range(len(usable)),
        key=lambda k: num_envs * usable[k][1] / total - shares[k],
        reverse=True,
    )
    left = num_envs - sum(shares)
    while left:
        for k in order:
            if left and shares[k] < usable[k][1]:
                shares[k] += 1
                left -= 1
    sessions: list[tuple[str, int]] = []
    for (address, _, most), share in zip(usable, shares, strict=True):
        while share > 0:
            size = min(share, most) if most > 0 else share
            sessions.append((address, size))
            share -= size
    return sessions
