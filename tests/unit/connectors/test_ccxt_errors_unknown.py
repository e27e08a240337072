"""A write's outcome is unknown whenever the failure is not an answer from the venue."""

from __future__ import annotations

from tradeforge.connectors.ccxt_errors import map_ccxt_error
from tradeforge.connectors.errors import UnknownOutcome
from tradeforge.domain import TemporaryError


def test_an_unexpected_failure_of_a_write_is_an_unknown_outcome() -> None:
    error = map_ccxt_error(RuntimeError("boom"), venue="SIM", what="create_order",
                           client_order_id="c-1")  # fmt: skip
    assert isinstance(error, UnknownOutcome)
    assert error.client_order_id == "c-1"


def test_an_unexpected_failure_of_a_read_is_temporary() -> None:
    error = map_ccxt_error(RuntimeError("boom"), venue="SIM", what="fetch_balance")
    assert isinstance(error, TemporaryError)
    assert not isinstance(error, UnknownOutcome)
