import subprocess
import sys

import pytest

from tradeforge.domain.frozen import freeze


class _Point:
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


freeze(_Point)


def test_a_frozen_class_sets_each_attribute_once() -> None:
    point = _Point(1, 2)

    assert (point.x, point.y) == (1, 2)
    with pytest.raises(AttributeError, match="_Point is immutable: x cannot be rebound"):
        point.x = 3
    with pytest.raises(AttributeError):
        point.z = 4  # type: ignore[attr-defined]
    assert point.x == 1


_PURE_PROBE = """
import decimal, tradeforge._native as native
from tradeforge.domain import KNOWN_CURRENCIES, InstrumentId, Money, Price
assert native.status().startswith("pure Python"), native.status()
for value, name in ((Price("1.5"), "_value"), (Money("2", KNOWN_CURRENCIES["USD"]), "_amount"),
                    (InstrumentId.from_str("BTC/USDT.SIM"), "_venue")):
    try:
        setattr(value, name, decimal.Decimal(3))
    except AttributeError as exc:
        assert "immutable" in str(exc), exc
    else:
        raise SystemExit(f"{type(value).__name__}.{name} was rebound")
print("ok")
"""


def test_value_types_refuse_rebinding_when_run_from_source() -> None:
    # Compiled, mypyc makes their Final attributes read-only; from source, ``freeze`` does.
    done = subprocess.run(
        [sys.executable, "-c", _PURE_PROBE],
        env={"TRADEFORGE_NATIVE": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
