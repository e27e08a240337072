"""Outbound URLs a user may give (custom data feeds, webhooks, venue URLs): refuse the private
network (RELIABILITY.md SEC-12, OWASP API7 server-side request forgery).

A URL is refused when its host is, or resolves to, an address the platform's own network can
reach but the internet cannot: loopback (127/8, ::1), private ranges (10/8, 172.16/12,
192.168/16, IPv6 unique-local fc00::/7), link-local (169.254/16 — cloud metadata — and
fe80::/10), "this host" (0.0.0.0/8, ::), multicast and reserved ranges, and IPv4 inside IPv6
(``::ffff:127.0.0.1``, 6to4, NAT64) judged by the IPv4 address it carries. Every address a name
resolves to must pass, so a name with one public and one private address is refused.

Checking a URL once is not enough: a server may redirect, and a name may resolve differently
later (DNS rebinding). Whoever fetches calls :meth:`EgressGuard.check_redirect` for every
``Location`` before following it, and checks again at connection time where the client allows.
``allow`` lets an operator name networks that are meant to be reachable (a feed on the LAN).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from tradeforge.domain.errors import InvalidValue

__all__ = ["EgressGuard", "refused_address"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]

_SCHEMES = ("http", "https", "ws", "wss")


def _resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def refused_address(address: Address) -> str | None:
    """Why ``address`` is not a public internet address (``None``: it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            reason = refused_address(carried)
            return f"{reason} (inside IPv6 {address})" if reason else None
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    return next((f"a {name} address" for name, hit in checks if hit), None)


class EgressGuard:
    """Decides whether the platform may connect to a URL a user gave."""

    def __init__(self, *, allow: Iterable[str] = (), resolve: Resolver = _resolve) -> None:
        self._allow = [ipaddress.ip_network(net, strict=False) for net in allow]
        self._resolve = resolve

    def check(self, url: str, *, field: str = "url") -> None:
        """Return if ``url`` may be fetched; else InvalidValue naming ``field`` and the reason."""
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
            raise InvalidValue(f"{field}: expected an http(s) or ws(s) URL with a host")
        host = parts.hostname
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            found = self._resolve(host)
            if not found:
                raise InvalidValue(f"{field}: the host {host!r} does not resolve") from None
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        for address in addresses:
            if any(address in net for net in self._allow):
                continue
            reason = refused_address(address)
            if reason is not None:
                raise InvalidValue(f"{field}: {host!r} is {reason}; only public hosts are allowed")

    def check_redirect(self, current: str, location: str, *, field: str = "url") -> str:
        """The absolute URL a redirect from ``current`` to ``location`` leads to, if allowed."""
        target = urljoin(current, location)
        self.check(target, field=field)
        return target
