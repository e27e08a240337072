"""SEC-12: URLs a user may give are refused when they reach the private network — as literal
addresses in every spelling, as names that resolve there (even one address of several), and as
redirect targets. Names are resolved by a table here: no test traffic leaves the process."""

from __future__ import annotations

import pytest

from tradeforge.connectors.egress import EgressGuard
from tradeforge.domain.errors import InvalidValue

DNS = {
    "feed.example": ["93.184.216.34"],
    "v6feed.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.1.2.3"],
    "metadata.example": ["169.254.169.254"],
    "rebind.example": ["93.184.216.34", "192.168.1.10"],  # one public, one private
    "ula.example": ["fd00::1"],
}
PRIVATE = [
    "http://127.0.0.1/", "http://127.1.2.3:8100/x", "https://10.0.0.1/", "http://10.255.255.255",
    "http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/", "http://0.0.0.0/", "http://0.1.2.3/", "http://[::]/",
    "http://[fd12:3456::1]/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://localhost:8000/", "https://internal.example/feed", "http://metadata.example/",
    "http://rebind.example/", "wss://ula.example/stream", "http://LOCALHOST/",
]  # fmt: skip
PUBLIC = ["https://feed.example/bars.csv", "wss://feed.example/ws", "http://93.184.216.34/",
          "https://v6feed.example/", "http://[2606:2800:220:1:248:1893:25c8:1946]/"]  # fmt: skip


def guard(**kwargs: object) -> EgressGuard:
    return EgressGuard(resolve=lambda host: DNS.get(host.lower(), []), **kwargs)  # type: ignore[arg-type]


def test_every_private_destination_is_refused() -> None:
    refused = []
    for url in PRIVATE:
        with pytest.raises(InvalidValue) as caught:
            guard().check(url, field="feed_url")
        assert str(caught.value).startswith("feed_url: ")
        refused.append(url)
    assert len(refused) == len(PRIVATE)  # 100 %


@pytest.mark.parametrize("url", PUBLIC)
def test_public_destinations_pass(url: str) -> None:
    guard().check(url)


@pytest.mark.parametrize(
    "url", ["ftp://feed.example/", "file:///etc/passwd", "gopher://feed.example/", "http:///x",
            "https://unknown.example/", "javascript:alert(1)"],
)  # fmt: skip
def test_other_schemes_and_unresolvable_hosts_are_refused(url: str) -> None:
    with pytest.raises(InvalidValue):
        guard().check(url)


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:8100/", "//169.254.169.254/latest", "http://internal.example/",
                 "http://[::ffff:192.168.0.1]/", "http://localhost/admin"],
)  # fmt: skip
def test_redirects_to_private_destinations_are_refused(location: str) -> None:
    with pytest.raises(InvalidValue):
        guard().check_redirect("https://feed.example/bars.csv", location)


def test_a_redirect_within_public_hosts_is_followed_to_its_absolute_url() -> None:
    assert guard().check_redirect("https://feed.example/a/b", "../c?x=1") == (
        "https://feed.example/c?x=1"
    )


def test_networks_the_operator_allows_pass_and_nothing_else() -> None:
    lan = guard(allow=["10.1.2.0/24"])

    lan.check("https://internal.example/feed")
    with pytest.raises(InvalidValue):
        lan.check("http://10.1.3.1/")
