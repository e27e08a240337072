from __future__ import annotations

import numpy as np
import pytest

from tradeforge.data import infer_precision
from tradeforge.data.precision import decimals_of_step
from tradeforge.domain import InvalidValue


@pytest.mark.parametrize(
    ("values", "precision"),
    [
        ([1.0, 2.0, 30_000.0], 0),
        ([100.5, 101.0], 1),
        ([30_000.12, 1.5, 7.0], 2),
        ([0.001, 12.345], 3),
        ([1e-8, 0.5], 8),
        ([0.1 + 0.2], 10),  # 0.30000000000000004 needs more than 10 decimals
        ([1 / 3], 10),
        ([float("nan"), 1.25], 2),
        ([], 0),
    ],
)
def test_fewest_decimals_that_hold_every_value(values: list[float], precision: int) -> None:
    assert infer_precision(np.array(values, dtype=np.float64)) == precision


def test_at_least_sets_a_floor() -> None:
    assert infer_precision(np.array([5.0]), at_least=3) == 3


@pytest.mark.parametrize(
    ("step", "decimals"), [(0.01, 2), (0.001, 3), (1.0, 0), (5.0, 0), (1e-5, 5), (0.25, 2)]
)
def test_decimals_of_a_tick_or_lot(step: float, decimals: int) -> None:
    assert decimals_of_step(step) == decimals


@pytest.mark.parametrize("step", [0.0, -0.01, float("nan")])
def test_steps_must_be_positive(step: float) -> None:
    with pytest.raises(InvalidValue):
        decimals_of_step(step)
