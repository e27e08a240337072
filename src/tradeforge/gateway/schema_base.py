"""What every gateway schema shares: decimal strings and the frozen base of response bodies.

Prices, quantities and money are decimal strings, never JSON floats, so nothing is rounded on
the way through.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DecimalStr", "FrozenOut"]

DecimalStr = str


class FrozenOut(BaseModel):
    """A response body: immutable once built."""

    model_config = ConfigDict(frozen=True)
