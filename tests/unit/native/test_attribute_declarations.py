"""No compiled class annotates an attribute that a compiled base class already declares.

mypyc gives such an attribute one slot but lists it twice in the class's ``tp_traverse``, so the
cyclic garbage collector subtracts that reference twice. The count underflows, the collector takes
the object for one referenced from outside, and every cycle through it is kept forever: each
backtest's engine, venue and orders stayed alive after the run (found in the
``BacktestEngine._subs`` and ``MatchingEngine._orders`` slots). Declare the attribute once, in
the base class, and assign it without an annotation in the subclass.
``tests/unit/backtest/test_run_frees_memory.py`` checks the effect through a real run.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tradeforge import _native

_SRC = Path(_native.__file__).resolve().parent.parent


def _declared(cls: ast.ClassDef) -> set[str]:
    """Attributes the class annotates: in its body, or as ``self.x: T`` in its methods."""
    names = {
        node.target.id
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Attribute)
            and isinstance(node.target.value, ast.Name)
            and node.target.value.id == "self"
        ):
            names.add(node.target.attr)
    return names


def _compiled_classes() -> dict[str, tuple[ast.ClassDef, dict[str, str]]]:
    """Every class of the compiled modules by qualified name, with its module's name bindings
    (local classes and ``from ... import`` names) to resolve its bases."""
    classes: dict[str, tuple[ast.ClassDef, dict[str, str]]] = {}
    for module in _native.MODULES:
        tree = ast.parse(_native.source_path(_SRC, module).read_text())
        names: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.ClassDef):
                names[node.name] = f"{module}.{node.name}"
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes[f"{module}.{node.name}"] = (node, names)
    return classes


def _defined_at(name: str) -> str:
    """``package.Name`` imported from a package that re-exports it, as the module that defines it
    (``tradeforge.domain.Identifier`` is ``tradeforge.domain.identifiers.Identifier``)."""
    module, _, attribute = name.rpartition(".")
    if not module.startswith("tradeforge"):
        return name
    found = getattr(importlib.import_module(module), attribute, None)
    if not isinstance(found, type):
        return name
    return f"{found.__module__}.{found.__qualname__}"


def test_no_compiled_subclass_redeclares_an_attribute_of_its_compiled_bases() -> None:
    classes = _compiled_classes()
    clashes: list[str] = []
    for qualified, (cls, names) in classes.items():
        own = _declared(cls)
        # (a base's name, the bindings of the module that names it)
        pending = [(b.id, names) for b in cls.bases if isinstance(b, ast.Name)]
        seen: set[str] = set()
        while pending:
            name, bindings = pending.pop()
            base = _defined_at(bindings.get(name, ""))
            if base not in classes or base in seen:
                continue
            seen.add(base)
            base_cls, base_bindings = classes[base]
            for attribute in sorted(own & _declared(base_cls)):
                clashes.append(f"{qualified}.{attribute} (declared in {base})")
            pending += [(b.id, base_bindings) for b in base_cls.bases if isinstance(b, ast.Name)]
    assert clashes == []


def test_the_check_sees_a_redeclared_attribute() -> None:
    source = (
        "class Base:\n    items: dict[int, int]\n\n"
        "class Child(Base):\n    def __init__(self) -> None:\n"
        "        self.items: dict[int, int] = {}\n"
    )
    base, child = (n for n in ast.parse(source).body if isinstance(n, ast.ClassDef))
    assert _declared(child) & _declared(base) == {"items"}
