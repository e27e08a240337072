"""Example strategies shipped with TradeForge (registered by name in ``registry``)."""
