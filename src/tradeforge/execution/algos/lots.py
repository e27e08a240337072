"""Exact allocation of whole lots across venues: the solver behind smart order routing.

Everything here is integers (quantities in units of the finest decimal in play) and exact
decimals ("signed costs": paid for a buy, minus the proceeds for a sell, so both sides
minimise). A :class:`Supply` is one venue's depth: levels of ``(units, signed cost per unit)``,
cheapest first, its lot and its minimum. :func:`allocate_lots` fills as much of ``wanted`` as
the supplies allow, then at the least total cost, then on the fewest venues; each venue gets a
whole number of lots, and 0 or at least its minimum.

How (see ``tradeforge.execution.sor`` for the rule in words):

- A venue's depth becomes a list of lots, priced by walking its levels (a lot straddling two
  levels costs what it takes of each). Lots of one venue get dearer as they go deeper, so any
  cheapest-first choice takes each venue's lots in book order.
- Lots of different sizes: when each size divides the next, the remainder that coarser lots
  cannot make is taken from the cheapest finest lots, the other finest lots are bundled
  (cheapest together) into lots of the next size, and so on up the chain; at the top the
  cheapest lots are taken. This is the exact method for sizes that divide one another. Sizes
  that do not are first coarsened to a chain (each to the least common multiple with every
  smaller one): valid, but possibly not optimal.
- Minimums: for every subset of the venues whose minimum is above their lot, those venues'
  minimums are taken first and the others are left out; the best subset wins.
- The most that can be filled is found first, coarsest lots first (exact for a chain).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradeforge.domain import InvalidValue
from tradeforge.execution.algos._exact import EXACT

__all__ = ["Allocation", "Supply", "allocate_lots", "walk_cost"]

MAX_GATED_VENUES: Final = 12  # venues with a minimum above their lot: 2**n subsets are tried

_ZERO = Decimal(0)

_Level = tuple[int, Decimal]  # (units, signed cost per unit)
_Run = tuple[int, Decimal, tuple[int, ...]]  # (count, signed cost per lot, units per venue)


@dataclass(frozen=True, slots=True)
class Supply:
    """One venue: ``levels`` of ``(units, signed cost per unit)``, best first; ``lot`` and
    ``minimum`` in units (``minimum`` a multiple of ``lot``)."""

    levels: tuple[_Level, ...]
    lot: int
    minimum: int

    @property
    def depth(self) -> int:
        """Units available in whole lots."""
        total = sum(units for units, _ in self.levels)
        return total - total % self.lot


@dataclass(frozen=True, slots=True)
class Allocation:
    """Units per supply (in input order), their total and their total signed cost."""

    units: tuple[int, ...]
    filled: int
    cost: Decimal

    def _key(self) -> tuple[int, Decimal, int]:
        return (-self.filled, self.cost, sum(1 for u in self.units if u))


def allocate_lots(supplies: Sequence[Supply], wanted: int, *, single: bool = False) -> Allocation:
    """The best allocation of at most ``wanted`` units (module docstring); with ``single``,
    the best that uses one venue only.

    Raises:
        InvalidValue: more than 12 venues with a minimum above their lot.
    """
    steps = _chain_steps([s.lot for s in supplies])
    gated = [i for i, s in enumerate(supplies) if s.minimum > steps[i]]
    best = Allocation(tuple(0 for _ in supplies), 0, _ZERO)
    for members, forced in _candidates(len(supplies), gated, supplies, wanted, single):
        plan = _plan(supplies, steps, members, forced, wanted)
        if plan is not None and plan._key() < best._key():
            best = plan
    return best


def walk_cost(levels: Sequence[_Level], start: int, amount: int) -> Decimal:
    """Signed cost of ``amount`` units taken after the first ``start`` units of ``levels``."""
    cost = _ZERO
    for units, price_cost in levels:
        skip = min(start, units)
        start -= skip
        take = min(amount, units - skip)
        if take:
            cost = EXACT.add(cost, EXACT.multiply(price_cost, Decimal(take)))
            amount -= take
    return cost


def _chain_steps(lots: list[int]) -> list[int]:
    # Each lot becomes the least common multiple of itself and every smaller lot, so the lots
    # in use form a chain in which each divides the next (unchanged when they already do).
    step_of: dict[int, int] = {}
    running = 1
    for lot in sorted(set(lots)):
        running = math.lcm(running, lot)
        step_of[lot] = running
    return [step_of[lot] for lot in lots]


def _candidates(
    n: int, gated: list[int], supplies: Sequence[Supply], wanted: int, single: bool
) -> list[tuple[list[int], dict[int, int]]]:
    out: list[tuple[list[int], dict[int, int]]] = []
    if single:
        for i in range(n):
            forced = {i: supplies[i].minimum} if i in gated else {}
            if sum(forced.values()) <= wanted:
                out.append(([i], forced))
        return out
    if len(gated) > MAX_GATED_VENUES:
        raise InvalidValue(f"at most {MAX_GATED_VENUES} venues may have a minimum above the lot")
    free = [i for i in range(n) if i not in gated]
    for mask in range(1 << len(gated)):
        chosen = [i for bit, i in enumerate(gated) if mask >> bit & 1]
        forced = {i: supplies[i].minimum for i in chosen}
        if sum(forced.values()) <= wanted:
            out.append((sorted(free + chosen), forced))
    return out


def _plan(
    supplies: Sequence[Supply],
    steps: list[int],
    members: list[int],
    forced: dict[int, int],
    wanted: int,
) -> Allocation | None:
    n = len(supplies)
    units = [0] * n
    cost = _ZERO
    by_step: dict[int, list[_Run]] = {}
    for i in members:
        supply = supplies[i]
        start = forced.get(i, 0)
        if start > supply.depth:
            return None
        if start:
            units[i] = start
            cost = EXACT.add(cost, walk_cost(supply.levels, 0, start))
        vector = tuple(steps[i] if j == i else 0 for j in range(n))
        by_step.setdefault(steps[i], []).extend(_lot_runs(supply.levels, start, steps[i], vector))
    rest = wanted - sum(forced.values())
    chain = sorted(by_step, reverse=True)
    # The most that can be filled: coarsest lots first (exact when the sizes form a chain).
    target = 0
    for step in chain:
        count = min(sum(run[0] for run in by_step[step]), (rest - target) // step)
        target += count * step
    picked_cost, picked = _select(chain, by_step, target, n)
    for i, extra in enumerate(picked):
        units[i] += extra
    return Allocation(tuple(units), sum(units), EXACT.add(cost, picked_cost))


def _lot_runs(
    levels: Sequence[_Level], start: int, size: int, unit_vector: tuple[int, ...]
) -> list[_Run]:
    """The lots of ``size`` after ``start`` units, as runs of equally priced lots."""
    runs: list[_Run] = []
    i, left = _seek(levels, start)
    while i < len(levels):
        price_cost = levels[i][1]
        if left >= size:
            count = left // size
            runs.append((count, EXACT.multiply(price_cost, Decimal(size)), unit_vector))
            left -= count * size
        if left == 0:
            i += 1
            left = levels[i][0] if i < len(levels) else 0
            continue
        # One lot straddling this level and the next ones.
        cost = EXACT.multiply(price_cost, Decimal(left))
        need = size - left
        i += 1
        while need and i < len(levels):
            take = min(need, levels[i][0])
            cost = EXACT.add(cost, EXACT.multiply(levels[i][1], Decimal(take)))
            need -= take
            left = levels[i][0] - take
            if left == 0:
                i += 1
                left = levels[i][0] if i < len(levels) else 0
        if need:
            break  # not enough depth for a whole lot
        runs.append((1, cost, unit_vector))
    return runs


def _seek(levels: Sequence[_Level], start: int) -> tuple[int, int]:
    i = 0
    while i < len(levels) and start >= levels[i][0]:
        start -= levels[i][0]
        i += 1
    return i, (levels[i][0] - start if i < len(levels) else 0)


def _select(
    chain: list[int], by_step: dict[int, list[_Run]], target: int, n: int
) -> tuple[Decimal, list[int]]:
    """The cheapest lots making up exactly ``target`` units, finest lots first: the remainder
    a coarser lot cannot make is taken from the cheapest fine lots, the rest of the fine lots
    are bundled (cheapest together) into coarser lots and compete with those."""
    cost = _ZERO
    units = [0] * n
    carry: list[_Run] = []
    rest = target
    for k in range(len(chain) - 1, -1, -1):
        step = chain[k]
        items = sorted(by_step[step] + carry, key=lambda run: run[1])
        ratio = chain[k - 1] // step if k else 0
        need = (rest // step) % ratio if k else rest // step
        taken, items = _take(items, need)
        for count, each, vector in taken:
            cost = EXACT.add(cost, EXACT.multiply(each, Decimal(count)))
            for i, u in enumerate(vector):
                units[i] += count * u
        rest -= need * step
        carry = _bundle(items, ratio) if k else []
    return cost, units


def _take(runs: list[_Run], need: int) -> tuple[list[_Run], list[_Run]]:
    taken: list[_Run] = []
    for pos, (count, each, vector) in enumerate(runs):
        if not need:
            return taken, runs[pos:]
        if count <= need:
            taken.append((count, each, vector))
            need -= count
        else:
            taken.append((need, each, vector))
            return taken, [(count - need, each, vector), *runs[pos + 1 :]]
    if need:
        raise AssertionError("fewer lots than the fill target needs")  # target is feasible
    return taken, []


def _bundle(runs: list[_Run], ratio: int) -> list[_Run]:
    out: list[_Run] = []
    pending = 0
    pending_cost = _ZERO
    pending_vector: list[int] = []
    for whole, each, vector in runs:
        count = whole
        if pending:
            take = min(ratio - pending, count)
            pending += take
            pending_cost = EXACT.add(pending_cost, EXACT.multiply(each, Decimal(take)))
            pending_vector = [a + take * b for a, b in zip(pending_vector, vector, strict=True)]
            count -= take
            if pending == ratio:
                out.append((1, pending_cost, tuple(pending_vector)))
                pending = 0
        if count >= ratio:
            full = count // ratio
            out.append(
                (full, EXACT.multiply(each, Decimal(ratio)), tuple(ratio * u for u in vector))
            )
            count -= full * ratio
        if count:
            pending = count
            pending_cost = EXACT.multiply(each, Decimal(count))
            pending_vector = [count * u for u in vector]
    return out  # an incomplete last bundle cannot be used
