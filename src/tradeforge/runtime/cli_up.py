"""``tradeforge up``: the whole platform in one process (what ``make run`` starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from tradeforge.runtime.settings import Settings

__all__ = ["up_command"]


class _Invocation(Protocol):
    @property
    def settings(self) -> Settings: ...


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def up_command(invocation: _Invocation, host: str, port: int) -> None:
    """Start the platform: API gateway and a paper-trading node on a generated market.

    Data (the order journal, the history catalog) lives under the data directory; a second
    start carries on where the first stopped. Ctrl-C stops it cleanly.

    \b
    Examples:
      tradeforge up
      tradeforge --data-dir ./tf-data up --port 8080
    """
    import uvicorn  # noqa: PLC0415

    from tradeforge.runtime.platform import embedded_app  # noqa: PLC0415

    settings = invocation.settings
    data_dir = Path(settings.data.path)
    app, _node, _auth = embedded_app(data_dir, auth_config=settings.auth,
                                     gateway=settings.gateway, redis=settings.redis,
                                     database_url=settings.db.url_for(data_dir))  # fmt: skip
    click.echo(f"TradeForge on http://{host}:{port}  (API docs: http://{host}:{port}/docs; "
               f"data: {data_dir})", err=True)  # fmt: skip
    proxies = settings.gateway.trusted_proxies  # X-Forwarded-* believed from these only
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=bool(proxies),
                forwarded_allow_ips=",".join(proxies) or None)  # fmt: skip
