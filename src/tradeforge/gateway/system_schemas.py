"""The bodies of the node-wide resources: what is running (``system``) and what its
reconciliations with the venues found (``reconciliation``).
"""

from __future__ import annotations

from tradeforge.gateway.schema_base import FrozenOut

__all__ = ["ReconciliationOut", "VersionOut"]


class VersionOut(FrozenOut):
    """What is running."""

    version: str
    mode: str


class ReconciliationOut(FrozenOut):
    """What the node's reconciliations with its venues found and did since it started."""

    adopted: list[str]
    resolved: list[str]
    fills_applied: int
    external: list[str]
