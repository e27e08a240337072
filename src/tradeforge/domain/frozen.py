"""``freeze``: read-only attributes for the value types when they run as plain Python.

The value types (prices, quantities, money, ids) are compiled with mypyc, where attributes
declared ``Final`` cannot be rebound after ``__init__``. Run from source (``TRADEFORGE_NATIVE=0``,
or a build that does not match the sources), ``Final`` binds nothing at run time: ``freeze`` then
gives the classes a ``__setattr__`` that sets each attribute once (in ``__init__``) and refuses
to rebind it, so both forms refuse the same writes.
"""

from __future__ import annotations

__all__ = ["freeze"]


def _set_once(self: object, name: str, value: object) -> None:
    try:
        object.__getattribute__(self, name)
    except AttributeError:
        object.__setattr__(self, name, value)  # the first set (or an unknown name: refused)
        return
    raise AttributeError(f"{type(self).__name__} is immutable: {name} cannot be rebound")


def freeze(*classes: type) -> None:
    """Make the attributes of ``classes`` write-once, unless mypyc compiled them (which does)."""
    for cls in classes:
        if "__mypyc_attrs__" not in vars(cls) and "__mypyc_attrs__" not in dir(cls):
            setattr(cls, "__setattr__", _set_once)  # noqa: B010 (a method set at run time)
