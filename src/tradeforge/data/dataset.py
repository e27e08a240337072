"""``DatasetInfo``: what the catalog knows about one dataset, kept in ``dataset.json`` beside it."""

from __future__ import annotations

from pathlib import Path

import msgspec

from tradeforge.data.errors import CatalogCorrupt
from tradeforge.data.layout import METADATA_FILE
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import InstrumentId
from tradeforge.domain.market_data import Timeframe

__all__ = ["DatasetInfo", "read_info", "write_info"]

_FORMAT = 1


class DatasetInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One dataset: an instrument's bars of one timeframe.

    ``first_ts``/``last_ts`` are the open times (UTC ns) of the first and last bar.
    ``price_precision``/``size_precision`` are the decimals of prices and volumes, inferred at
    import unless given. ``created_ns`` is whatever time the writer passed in (0 if none).
    ``path`` is the dataset's directory.
    """

    instrument_id: InstrumentId
    timeframe: Timeframe
    rows: int
    first_ts: int
    last_ts: int
    price_precision: int
    size_precision: int
    source: str
    created_ns: int
    path: Path


class _Metadata(msgspec.Struct, frozen=True, kw_only=True):
    # The on-disk form of DatasetInfo (ids as text); ``format`` guards future changes.
    format: int
    instrument_id: str
    timeframe: str
    rows: int
    first_ts: int
    last_ts: int
    price_precision: int
    size_precision: int
    source: str
    created_ns: int


def write_info(info: DatasetInfo, directory: Path) -> None:
    """Write ``info`` as ``dataset.json`` into ``directory``."""
    metadata = _Metadata(
        format=_FORMAT,
        instrument_id=info.instrument_id.value,
        timeframe=str(info.timeframe),
        rows=info.rows,
        first_ts=info.first_ts,
        last_ts=info.last_ts,
        price_precision=info.price_precision,
        size_precision=info.size_precision,
        source=info.source,
        created_ns=info.created_ns,
    )
    text = msgspec.json.format(msgspec.json.encode(metadata), indent=2)
    (directory / METADATA_FILE).write_bytes(text + b"\n")


def read_info(directory: Path) -> DatasetInfo:
    """Read ``dataset.json`` from ``directory``; :class:`CatalogCorrupt` if it is unreadable."""
    path = directory / METADATA_FILE
    try:
        metadata = msgspec.json.decode(path.read_bytes(), type=_Metadata)
        if metadata.format != _FORMAT:
            raise CatalogCorrupt(f"{path}: unknown format {metadata.format} (expected {_FORMAT})")
        return DatasetInfo(
            instrument_id=InstrumentId.from_str(metadata.instrument_id),
            timeframe=Timeframe.from_str(metadata.timeframe),
            rows=metadata.rows,
            first_ts=metadata.first_ts,
            last_ts=metadata.last_ts,
            price_precision=metadata.price_precision,
            size_precision=metadata.size_precision,
            source=metadata.source,
            created_ns=metadata.created_ns,
            path=directory,
        )
    except (OSError, msgspec.DecodeError, InvalidValue) as exc:
        raise CatalogCorrupt(f"cannot read dataset metadata {path}: {exc}") from None
