"""Only ``tradeforge.bus`` (the clocks) may read the wall clock; everything else asks a Clock.

A reviewed exception (e.g. a progress display) carries ``# wall-clock: <reason>`` on the line.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tradeforge"
ALLOWED_PACKAGE = SRC / "bus"
ESCAPE = re.compile(r"#\s*wall-clock:\s*\S")

# Fully qualified names, after resolving imports and aliases.
FORBIDDEN = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
    }
)
# Dotted text as written, for receivers the imports do not reveal (e.g. pandas).
FORBIDDEN_SUFFIXES = (
    "datetime.now",
    "datetime.utcnow",
    "date.today",
    "Timestamp.now",
    "Timestamp.utcnow",
    "Timestamp.today",
)
LOOP_FACTORIES = ("get_running_loop", "get_event_loop", "new_event_loop")
REGEX_FALLBACK = re.compile(
    r"\btime\.(time|time_ns|monotonic|perf_counter)\b|\b(datetime\.(now|utcnow)|date\.today)\("
    r"|loop\.time\("
)


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _imports(tree: ast.AST) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _ends_with_forbidden(written: str) -> bool:
    return any(written == s or written.endswith("." + s) for s in FORBIDDEN_SUFFIXES)


def _is_loop_time(node: ast.Attribute) -> bool:
    if node.attr != "time":
        return False
    receiver = node.value
    if isinstance(receiver, ast.Call):
        name = _dotted(receiver.func)
        return name is not None and name[-1] in LOOP_FACTORIES
    name = _dotted(receiver)
    return name is not None and "loop" in name[-1].lower()


def _wall_clock_read(node: ast.Attribute | ast.Name, aliases: dict[str, str]) -> str | None:
    parts = _dotted(node)
    is_loop_time = isinstance(node, ast.Attribute) and _is_loop_time(node)
    if parts is None:
        return "loop.time" if is_loop_time else None
    written = ".".join(parts)
    qualified = ".".join([aliases.get(parts[0], parts[0]), *parts[1:]])
    if qualified in FORBIDDEN or _ends_with_forbidden(written) or is_loop_time:
        return written
    return None


def _escaped_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and ESCAPE.search(token.string):
            lines.add(token.start[0])
    return lines


def find_wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every unescaped wall-clock read in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [
            (number, match.group(0))
            for number, line in enumerate(source.splitlines(), start=1)
            if (match := REGEX_FALLBACK.search(line)) and not ESCAPE.search(line)
        ]
    aliases = _imports(tree)
    escaped = _escaped_lines(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute | ast.Name) or isinstance(node.ctx, ast.Store):
            continue
        what = _wall_clock_read(node, aliases)
        span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if what is not None and not escaped.intersection(span):
            found.append((node.lineno, what))
    return sorted(found)


def test_wall_clock_is_read_only_inside_the_bus_package() -> None:
    files = [path for path in sorted(SRC.rglob("*.py")) if ALLOWED_PACKAGE not in path.parents]

    violations = [
        f"{path.relative_to(SRC.parents[1])}:{line}: {what} (ask the Clock, or add "
        "'# wall-clock: <reason>' after review)"
        for path in files
        for line, what in find_wall_clock_reads(path.read_text(encoding="utf-8"))
    ]

    assert files, f"no modules found under {SRC}"
    assert violations == []


def test_the_scanner_sees_the_real_wall_clock_reads_in_the_live_clock() -> None:
    source = (ALLOWED_PACKAGE / "live_clock.py").read_text(encoding="utf-8")

    assert any(what == "time.time_ns" for _, what in find_wall_clock_reads(source))


@pytest.mark.parametrize(
    "source",
    [
        "import time\nx = time.time()",
        "import time\nx = time.time_ns()",
        "import time\nx = time.monotonic()",
        "import time\nx = time.perf_counter_ns()",
        "import time as t\nx = t.time()",
        "from time import time_ns\nx = time_ns()",
        "from time import monotonic as mono\nx = mono()",
        "from datetime import datetime\nx = datetime.now()",
        "from datetime import datetime\nx = datetime.utcnow()",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)",
        "import datetime as dt\nx = dt.datetime.now()",
        "from datetime import date\nx = date.today()",
        "from datetime import datetime as DT\nx = DT.now()",
        "import pandas as pd\nx = pd.Timestamp.now()",
        "from dataclasses import field\nimport time\nf = field(default_factory=time.time)",
        "import asyncio\nx = asyncio.get_running_loop().time()",
        "def f(loop):\n    return loop.time()",
        "class A:\n    def f(self):\n        return self._loop.time()",
        "import time\nx = (\n    time.time()  # wall-clock: only this line is escaped\n)\n"
        "y = time.time()",
        "this is not python but time.time() is here",
    ],
)
def test_the_scanner_flags_wall_clock_reads(source: str) -> None:
    assert find_wall_clock_reads(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.sleep(1)",
        "import time\nx = time.time()  # wall-clock: progress bar ETA",
        "from datetime import datetime, UTC\nx = datetime.fromtimestamp(0, tz=UTC)",
        "def f(clock):\n    return clock.timestamp_ns()",
        "x = 'time.time() in a string'\n# time.time() in a comment",
        "def f(bar):\n    return bar.time",
        "import time\ntime_ns = 5\nx = time_ns",
    ],
)
def test_the_scanner_accepts_clean_or_escaped_code(source: str) -> None:
    assert find_wall_clock_reads(source) == []
