"""Versions: of this package, and of the protocol it speaks.

PROTOCOL_VERSION is "MAJOR.MINOR". MINOR grows with additions that old
peers can ignore; MAJOR changes only with a new proto package (openenv.v2),
and peers of different MAJOR refuse each other (see `check_protocol`), as
Unity ML-Agents' handshake does.

History: 1.0 was the first contract, never released to users; 1.1 is the
final v1 (rich errors with stable reasons, idempotent creation and steps,
batched sessions with messages of their own, int32 counts, Duration TTL);
1.2 adds the reliability limits (ENV_TIMEOUT, CAPACITY_EXHAUSTED,
REQUEST_TOO_LARGE, per-sub-env errors in StepBatchResponse, the timeouts and
max_envs in Capabilities); 1.3 adds UNAUTHENTICATED (tokens); 1.4 adds MCP
tools (ListTools, CallTool, on streams too; tools in Describe; TOOL_NOT_FOUND,
INVALID_TOOL_ARGUMENTS), tasksets (ListTasks, TaskSelector in resets, tasksets in
Describe, TASK_NOT_FOUND), external rewards (RewardService, REWARD_ERROR), and
batched infos in Gymnasium's vector layout (NewBatchSession.info_layout,
vector_info) with Capabilities.vector_processes; 1.5 adds the server's current
load in Describe (ServerLoad: open sessions, batched sub-envs, draining,
saturated), so clients can spread sessions over several servers.
"""

from __future__ import annotations

from .errors import ProtocolMismatch

__version__ = "0.2.0"
PROTOCOL_VERSION = "1.5"
PROTOCOL_HEADER = "openenv-protocol-version"
SESSION_HEADER = "openenv-session-id"


def check_protocol(remote: str, *, who: str) -> None:
    """Refuse a peer whose protocol MAJOR differs from ours (PROTOCOL_MISMATCH)."""
    if remote.split(".", 1)[0] != PROTOCOL_VERSION.split(".", 1)[0]:
        server, client = (
            (remote, PROTOCOL_VERSION) if who == "server" else (PROTOCOL_VERSION, remote)
        )
        raise ProtocolMismatch(
            f"the {who} speaks openenv protocol {remote or '(unknown)'} but this side speaks "
            f"{PROTOCOL_VERSION}; upgrade the older side to the same major version",
            metadata={"server_version": server[:32], "client_version": client[:32]},
        )
