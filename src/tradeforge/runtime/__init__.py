"""Runtime: settings, composition of the embedded and distributed shapes, and the CLI.

Nothing imports this package; it imports and wires everything else.
"""

from tradeforge.runtime.errors import ConfigurationError
from tradeforge.runtime.settings import Setting, Settings, load_settings
from tradeforge.runtime.sources import Source

__all__ = ["ConfigurationError", "Setting", "Settings", "Source", "load_settings"]
