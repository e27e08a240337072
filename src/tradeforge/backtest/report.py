"""One self-contained HTML page per backtest: metrics, charts, monthly returns and trades.

The page opens offline: CSS, SVG charts and a few lines of hover script are inline, and it
loads no fonts, scripts or images. Every text that comes from outside (title, instrument ids)
is escaped. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from tradeforge.backtest.metrics import Metrics, drawdown_pct, metrics_rows, monthly_returns
from tradeforge.backtest.report_charts import (
    GREEN,
    RED,
    Marker,
    drawdown_svg,
    equity_svg,
    price_svg,
)
from tradeforge.backtest.results import EquityCurve, RoundTrip
from tradeforge.bus import ns_to_utc
from tradeforge.domain import PositionSide

__all__ = ["MAX_MARKED_TRADES", "MAX_TRADE_ROWS", "render_report", "write_report"]

MAX_TRADE_ROWS: Final = 500
MAX_MARKED_TRADES: Final = 1_000  # per instrument; more are sampled evenly

_CARDS: Final = (
    "net_profit",
    "total_return_pct",
    "cagr_pct",
    "max_drawdown_pct",
    "sharpe",
    "sortino",
    "calmar",
    "win_rate_pct",
    "profit_factor",
    "num_trades",
    "exposure_pct",
    "max_drawdown_duration_ns",
)
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

_Prices = dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]


def write_report(
    path: Path,
    *,
    title: str,
    curve: EquityCurve,
    trades: Sequence[RoundTrip],
    metrics: Metrics,
    prices: _Prices | None = None,
) -> None:
    """Write the report to ``path`` (UTF-8). ``prices`` maps instrument id to (ts ns, close)."""
    page = render_report(title=title, curve=curve, trades=trades, metrics=metrics, prices=prices)
    path.write_text(page, encoding="utf-8")


def render_report(
    *,
    title: str,
    curve: EquityCurve,
    trades: Sequence[RoundTrip],
    metrics: Metrics,
    prices: _Prices | None = None,
) -> str:
    """The report page as a string (see ``write_report``)."""
    ts = np.asarray(curve.ts, dtype=np.int64)
    equity = np.asarray(curve.equity, dtype=np.float64)
    initial = float(metrics.initial_cash)
    period = (
        f"{_utc(metrics.start_ns)} → {_utc(metrics.end_ns)} · {ts.size:,} bars"
        if ts.size
        else "no bars"
    )
    sections = [
        f"<header><h1>{escape(title)}</h1><p class=sub>{escape(period)}</p></header>",
        _cards(metrics),
    ]
    if ts.size:
        sections.append(_section("Equity", equity_svg(ts, equity, baseline=initial)))
        sections.append(
            _section("Drawdown", drawdown_svg(ts, drawdown_pct(curve, initial)), "% below peak")
        )
    sections.extend(_price_sections(trades, prices or {}))
    sections.append(_monthly_table(curve, initial))
    sections.append(_trades_table(trades))
    sections.append(_all_metrics(metrics))
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}<footer>TradeForge backtest report · times in UTC</footer></main>"
        f'<div id="tip"></div><script>{_JS}</script></body></html>\n'
    )


def _section(heading: str, content: str, note: str = "") -> str:
    small = f" <small>{escape(note)}</small>" if note else ""
    return f"<section><h2>{escape(heading)}{small}</h2>{content}</section>"


def _cards(metrics: Metrics) -> str:
    cards = []
    for key, (label, value) in zip(_CARDS, metrics_rows(metrics, _CARDS), strict=True):
        tone = ""
        if key in ("net_profit", "total_return_pct", "cagr_pct"):
            tone = " pos" if metrics.net_profit > 0 else " neg" if metrics.net_profit < 0 else ""
        elif key == "max_drawdown_pct" and metrics.max_drawdown_pct > 0:
            tone = " neg"
        cards.append(
            f'<div class="card"><div class="label">{escape(label)}</div>'
            f'<div class="value{tone}">{escape(value)}</div></div>'
        )
    return f'<section class="cards">{"".join(cards)}</section>'


def _price_sections(trades: Sequence[RoundTrip], prices: _Prices) -> list[str]:
    by_instrument: dict[str, list[RoundTrip]] = {}
    for trade in trades:
        by_instrument.setdefault(str(trade.instrument_id), []).append(trade)
    sections = []
    for instrument, (raw_ts, raw_close) in prices.items():
        ts = np.asarray(raw_ts, dtype=np.int64)
        close = np.asarray(raw_close, dtype=np.float64)
        if not ts.size or ts.shape != close.shape:
            continue
        mine = by_instrument.pop(instrument, [])
        shown = mine
        note = f"{len(mine):,} trades" if mine else "no trades"
        if len(mine) > MAX_MARKED_TRADES:
            pick = np.linspace(0, len(mine) - 1, MAX_MARKED_TRADES).round().astype(np.int64)
            shown = [mine[i] for i in pick.tolist()]
            note = f"{len(shown):,} of {len(mine):,} trades marked (evenly sampled)"
        svg = price_svg(ts, close, [_marks(t) for t in shown])
        sections.append(_section(instrument, svg + _LEGEND, note))
    if by_instrument:
        missing = ", ".join(f"{k} ({len(v):,} trades)" for k, v in by_instrument.items())
        sections.append(
            _section("Prices", f'<p class="note">No prices given for {escape(missing)}.</p>')
        )
    return sections


def _marks(trade: RoundTrip) -> tuple[Marker, Marker, bool]:
    long = trade.side is PositionSide.LONG
    side = "Long" if long else "Short"
    net = trade.net_pnl
    entry = Marker(
        ts=trade.entry_ts,
        price=float(trade.entry_price),
        buy=long,
        entry=True,
        label=f"{side} entry · {_utc(trade.entry_ts)} · {trade.entry_price:f} · "
        f"qty {trade.quantity}",
    )
    exit_ = Marker(
        ts=trade.exit_ts,
        price=float(trade.exit_price),
        buy=not long,
        entry=False,
        label=f"{side} exit · {_utc(trade.exit_ts)} · {trade.exit_price:f} · net {net}",
    )
    return entry, exit_, net.amount > 0


def _monthly_table(curve: EquityCurve, initial: float) -> str:
    years = monthly_returns(curve, initial)
    if not years:
        return _section("Monthly returns", '<p class="note">No bars.</p>')
    month_scale = max((abs(v) for y in years for v in y.months if v is not None), default=0.0)
    year_scale = max((abs(y.total) for y in years if y.total is not None), default=0.0)
    head = "".join(f"<th>{m}</th>" for m in (*_MONTHS, "Year"))
    rows = []
    for y in years:
        cells = "".join(_return_cell(v, month_scale) for v in y.months)
        rows.append(f"<tr><th>{y.year}</th>{cells}{_return_cell(y.total, year_scale, 'yr')}</tr>")
    table = f'<table class="monthly"><tr><th></th>{head}</tr>{"".join(rows)}</table>'
    return _section("Monthly returns", table, "% change of month-end equity, UTC")


def _return_cell(value: float | None, scale: float, cls: str = "") -> str:
    if value is None:
        return f'<td class="{cls}"></td>'
    strength = 0.12 + 0.6 * min(abs(value) / scale, 1.0) if scale else 0.12
    rgb = "22,163,74" if value >= 0 else "220,38,38"
    return f'<td class="{cls}" style="background:rgba({rgb},{strength:.2f})">{value:+.2f}</td>'


def _trades_table(trades: Sequence[RoundTrip]) -> str:
    if not trades:
        return _section("Trades", '<p class="note">No trades.</p>')
    code = escape(trades[0].pnl.currency.code)  # metrics refuse mixed currencies
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "#", "Instrument", "Side", "Quantity", "Entry (UTC)", "Entry price",
            "Exit (UTC)", "Exit price", f"Fees ({code})", f"Net PnL ({code})", "Return",
        )
    )  # fmt: skip
    rows = []
    for i, t in enumerate(trades[:MAX_TRADE_ROWS], start=1):
        net = t.net_pnl
        tone = "pos" if net.amount > 0 else "neg" if net.amount < 0 else ""
        rows.append(
            f"<tr><td>{i}</td><td>{escape(str(t.instrument_id))}</td><td>{t.side.value}</td>"
            f"<td>{t.quantity}</td><td>{_utc(t.entry_ts)}</td><td>{t.entry_price:f}</td>"
            f"<td>{_utc(t.exit_ts)}</td><td>{t.exit_price:f}</td>"
            f"<td>{t.fees.amount:f}</td><td class='{tone}'>{net.amount:f}</td>"
            f"<td class='{tone}'>{t.return_pct:+.2f} %</td></tr>"
        )
    left_out = len(trades) - MAX_TRADE_ROWS
    note = (
        f'<p class="note">First {MAX_TRADE_ROWS:,} of {len(trades):,} trades shown; '
        f"{left_out:,} left out.</p>"
        if left_out > 0
        else ""
    )
    table = (
        f'<div class="scroll"><table class="trades"><tr>{head}</tr>{"".join(rows)}</table></div>'
    )
    return _section("Trades", table + note, "net of fees")


def _all_metrics(metrics: Metrics) -> str:
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in metrics_rows(metrics)
    )
    return (
        f'<section><details><summary>All metrics</summary><table class="all">{rows}</table>'
        "</details></section>"
    )


def _utc(ts_ns: int) -> str:
    return ns_to_utc(ts_ns).strftime("%Y-%m-%d %H:%M")


_LEGEND: Final = (
    '<p class="legend">'
    f'<span style="color:{GREEN}">▲</span> buy · <span style="color:{RED}">▼</span> sell · '
    "solid = entry, hollow = exit · dotted line joins a trade (green won, red lost)</p>"
)

_CSS: Final = """
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:#0f172a;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
h1{margin:0;font-size:24px}
h2{margin:0 0 10px;font-size:16px}
h2 small{font-weight:400;color:#64748b;margin-left:6px}
.sub{margin:4px 0 0;color:#475569}
header{margin-bottom:16px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;
margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;
background:none;border:0;padding:0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 12px}
.card .label{color:#64748b;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:20px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums;
overflow-wrap:anywhere}
.pos{color:#15803d}.neg{color:#b91c1c}
svg.chart{width:100%;height:auto;display:block}
svg .plot{fill:#fff;stroke:#e2e8f0}
svg .grid{stroke:#eef2f7;stroke-width:1}
svg .yl{font-size:11px;fill:#64748b;text-anchor:end}
svg .xl{font-size:11px;fill:#64748b;text-anchor:middle}
svg .line{fill:none;stroke-width:1.4;stroke-linejoin:round}
svg .area{opacity:.12;stroke:none}
svg .base{stroke:#94a3b8;stroke-dasharray:4 4}
svg .link{stroke-dasharray:2 3;stroke-width:1;opacity:.7}
svg .mk{stroke-width:1.3}
svg .hover{display:none;pointer-events:none}
svg .cross{stroke:#94a3b8;stroke-width:1}
.legend,.note{color:#64748b;font-size:12px;margin:6px 0 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:12.5px}
th,td{padding:4px 8px;text-align:right;white-space:nowrap}
.monthly{width:100%}
.monthly td{border:1px solid #fff;min-width:52px}
.monthly td.yr{font-weight:600;border-left:3px solid #fff}
.monthly th{color:#475569}
.scroll{overflow-x:auto}
.trades tr:nth-child(even) td{background:#f8fafc}
.trades th{position:sticky;top:0;background:#fff;border-bottom:1px solid #e2e8f0}
.all th{text-align:left;color:#475569;font-weight:400}
summary{cursor:pointer;font-weight:600}
footer{color:#94a3b8;font-size:12px;text-align:center}
#tip{position:absolute;display:none;pointer-events:none;background:#0f172a;color:#fff;
font-size:12px;padding:4px 8px;border-radius:4px;white-space:pre}
"""

# Hover read-out for each chart: the nearest downsampled point under the mouse.
_JS: Final = """
(function(){
var tip=document.getElementById('tip');
function fmt(v,u){return u==='%'?v.toFixed(2)+' %':
 v.toLocaleString('en-US',{maximumFractionDigits:Math.abs(v)<10?6:2});}
document.querySelectorAll('svg.chart').forEach(function(svg){
 var pts=svg.querySelector('polyline').getAttribute('points').trim().split(' ')
  .map(function(p){return p.split(',').map(Number);});
 var t=svg.dataset.t.split(',').map(Number),v=svg.dataset.v.split(',').map(Number);
 var g=svg.querySelector('.hover'),ln=g.querySelector('line'),c=g.querySelector('circle');
 svg.addEventListener('mousemove',function(e){
  var r=svg.getBoundingClientRect(),x=(e.clientX-r.left)*svg.viewBox.baseVal.width/r.width;
  var lo=0,hi=pts.length-1;
  while(lo<hi){var m=(lo+hi)>>1;if(pts[m][0]<x)lo=m+1;else hi=m;}
  if(lo>0&&x-pts[lo-1][0]<pts[lo][0]-x)lo--;
  ln.setAttribute('x1',pts[lo][0]);ln.setAttribute('x2',pts[lo][0]);
  c.setAttribute('cx',pts[lo][0]);c.setAttribute('cy',pts[lo][1]);g.style.display='inline';
  tip.textContent=new Date(t[lo]).toISOString().slice(0,16).replace('T',' ')+' UTC\\n'
   +svg.dataset.name+': '+fmt(v[lo],svg.dataset.unit);
  tip.style.display='block';tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+14)+'px';
 });
 svg.addEventListener('mouseleave',function(){g.style.display='none';tip.style.display='none';});
});
})();
"""
