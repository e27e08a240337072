"""Declarative, typed strategy parameters.

Declare them as class attributes; each instance reads its own validated value::

    class SmaCross(Strategy):
        fast = IntParam(10, min=2, max=200, description="fast SMA period")

The ranges are what the optimiser searches and what a UI form shows (``schema()``). A bad value is
refused with ``InvalidValue`` naming the parameter, the value and the rule it broke. Values may be
given as strings (from the command line or a form) and are parsed by the parameter's type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, overload

from tradeforge.domain import InvalidValue

__all__ = ["ChoiceParam", "DecimalParam", "FloatParam", "IntParam", "Param"]

T = TypeVar("T")
N = TypeVar("N", bound=int | float | Decimal)


class Param(Generic[T]):
    """Base of every parameter: a default and a description."""

    kind = "param"

    def __init__(self, default: T, *, description: str = "") -> None:
        self.name = ""
        self.description = description
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.default = self.validate(self.default)

    @overload
    def __get__(self, instance: None, owner: type) -> Param[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Param[T] | T:
        if instance is None:
            return self
        value: T = instance._params[self.name]  # type: ignore[attr-defined]
        return value

    def __set__(self, instance: object, value: object) -> None:
        raise AttributeError(f"parameter {self.name!r} is read-only once the strategy is built")

    def _refuse(self, value: object, rule: str) -> InvalidValue:
        return InvalidValue(f"parameter {self.name!r} = {value!r}: {rule}")

    def validate(self, value: object) -> T:
        """The value as this parameter's type, or ``InvalidValue`` naming the parameter."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """JSON-ready description for forms and the optimiser."""
        return {"type": self.kind, "default": _plain(self.default), "description": self.description}


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


class _Ranged(Param[N]):
    def __init__(
        self,
        default: N,
        *,
        min: N | None = None,
        max: N | None = None,
        step: N | None = None,
        description: str = "",
    ) -> None:
        self.min: N | None = min
        self.max: N | None = max
        self.step: N | None = step
        Param.__init__(self, default, description=description)

    def _parse(self, value: object) -> N:
        raise NotImplementedError

    def validate(self, value: object) -> N:
        parsed = self._parse(value)
        number: Any = parsed  # int, float and Decimal compare with each other
        if self.min is not None and number < self.min:
            raise self._refuse(value, f"must be >= {self.min}")
        if self.max is not None and number > self.max:
            raise self._refuse(value, f"must be <= {self.max}")
        return parsed

    def schema(self) -> dict[str, Any]:
        return {
            **super().schema(),
            "min": _plain(self.min),
            "max": _plain(self.max),
            "step": _plain(self.step),
        }


class IntParam(_Ranged[int]):
    """An integer, e.g. a period."""

    kind = "int"

    def _parse(self, value: object) -> int:
        if isinstance(value, bool):
            raise self._refuse(value, "must be an integer, not a bool")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise self._refuse(value, "must be an integer") from None
        if isinstance(value, float | Decimal):
            finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
            if finite and value == int(value):
                return int(value)
        raise self._refuse(value, "must be an integer")


class FloatParam(_Ranged[float]):
    """A real number that is not money (a ratio, a threshold in standard deviations)."""

    kind = "float"

    def _parse(self, value: object) -> float:
        if isinstance(value, bool):
            raise self._refuse(value, "must be a number, not a bool")
        try:
            parsed = float(value) if isinstance(value, int | float | str | Decimal) else math.nan
        except ValueError:
            raise self._refuse(value, "must be a number") from None
        if not math.isfinite(parsed):
            raise self._refuse(value, "must be a finite number")
        return parsed


class DecimalParam(_Ranged[Decimal]):
    """An exact number: sizes, prices, money."""

    kind = "decimal"

    def _parse(self, value: object) -> Decimal:
        if isinstance(value, bool):
            raise self._refuse(value, "must be a number, not a bool")
        if isinstance(value, float):
            value = repr(value)  # shortest round-trip text, so 0.1 means 0.1
        if not isinstance(value, str | int | Decimal):
            raise self._refuse(value, "must be a decimal number")
        try:
            parsed = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise self._refuse(value, "must be a decimal number") from None
        if not parsed.is_finite():
            raise self._refuse(value, "must be finite")
        return parsed


class ChoiceParam(Param[str]):
    """One of a fixed set of strings."""

    kind = "choice"

    def __init__(self, default: str, choices: Sequence[str], *, description: str = "") -> None:
        self.choices = tuple(choices)
        super().__init__(default, description=description)

    def validate(self, value: object) -> str:
        if value not in self.choices:
            raise self._refuse(value, f"must be one of {', '.join(map(repr, self.choices))}")
        assert isinstance(value, str)
        return value

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "choices": list(self.choices)}
