"""The domain is pure: no I/O, no clock, no randomness, no other TradeForge package.

Every module under src/tradeforge/domain is parsed (not imported) and its imports checked.
"""

import ast
from pathlib import Path

import pytest

import tradeforge.domain

DOMAIN_DIR = Path(tradeforge.domain.__file__).parent
MODULES = sorted(DOMAIN_DIR.rglob("*.py"))
FORBIDDEN = frozenset(
    {
        "os",
        "io",
        "socket",
        "pathlib",
        "time",
        "datetime",
        "random",
        "uuid",
        "asyncio",
        "sqlite3",
        "requests",
        "httpx",
        "logging",
    }
)


def imported_modules(source: Path) -> list[str]:
    """Absolute names of every module the file ``source`` imports."""
    package = ".".join(source.relative_to(DOMAIN_DIR.parent.parent).parts[:-1])
    return imports_in(source.read_text(encoding="utf-8"), package)


def imports_in(code: str, package: str) -> list[str]:
    """Absolute names of every module ``code`` imports, relative imports resolved."""
    names: list[str] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.append(f"{base}.{node.module}" if node.module else base)
            else:
                names.append(node.module or "")
    return names


def module_id(path: Path) -> str:
    return str(path.relative_to(DOMAIN_DIR))


def test_the_domain_has_modules_to_check() -> None:
    assert len(MODULES) >= 20
    assert DOMAIN_DIR / "orders" / "order.py" in MODULES


@pytest.mark.parametrize("source", MODULES, ids=module_id)
def test_domain_module_imports_no_other_tradeforge_package(source: Path) -> None:
    outside = [
        name
        for name in imported_modules(source)
        if (name == "tradeforge" or name.startswith("tradeforge."))
        and not (name == "tradeforge.domain" or name.startswith("tradeforge.domain."))
    ]

    assert outside == []


@pytest.mark.parametrize("source", MODULES, ids=module_id)
def test_domain_module_imports_no_io_clock_or_randomness(source: Path) -> None:
    impure = [name for name in imported_modules(source) if name.split(".")[0] in FORBIDDEN]

    assert impure == []


def test_the_import_checker_resolves_relative_dotted_and_nested_imports() -> None:
    code = (
        "from . import events\n"
        "from ..values import Price\n"
        "import os.path\n"
        "def f():\n"
        "    from tradeforge.bus import clock\n"
    )

    names = imports_in(code, "tradeforge.domain.orders")

    assert names == [
        "tradeforge.domain.orders",
        "tradeforge.domain.values",
        "os.path",
        "tradeforge.bus",
    ]


def test_the_import_checker_reads_a_real_module() -> None:
    names = imported_modules(DOMAIN_DIR / "orders" / "spec.py")

    assert "tradeforge.domain.values" in names
    assert "msgspec" in names
