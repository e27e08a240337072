from __future__ import annotations

import tradeforge.runtime


def test_public_api_is_pinned() -> None:
    assert tradeforge.runtime.__all__ == [
        "ConfigurationError",
        "Setting",
        "Settings",
        "Source",
        "load_settings",
    ]
    for name in tradeforge.runtime.__all__:
        assert hasattr(tradeforge.runtime, name)
