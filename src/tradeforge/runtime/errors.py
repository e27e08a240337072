"""Errors the runtime raises; all come from the shared tree in :mod:`tradeforge.domain.errors`.

::

    TradeForgeError
    └── OperatorError
        └── ConfigurationError    a setting, the config file or an env var is wrong:
                                  names the key, the value and where it came from

The CLI turns any ``TradeForgeError`` into one red ``error: ...`` line and exit status 2.
"""

from tradeforge.domain.errors import ConfigurationError, TradeForgeError

__all__ = ["ConfigurationError", "TradeForgeError"]
