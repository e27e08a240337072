"""Start-up refuses weak secrets (SEC-4: the signing key is >= 256 random bits) and
out-of-range limits (access TTL <= 15 min, leeway <= 30 s, failures < 100), naming the key."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from tests.unit.auth.conftest import fast_hasher, make_config

from tradeforge.auth import AuthConfig, AuthService, generate_key_text
from tradeforge.auth.config import load_key, parse_key
from tradeforge.bus import ReplayClock
from tradeforge.domain.errors import ConfigurationError
from tradeforge.store import Database, sqlite_url

WEAK_SECRETS = [
    "",
    "changethis",
    "secret",
    "CHANGEME",
    "your-secret-key",
    base64.urlsafe_b64encode(os.urandom(31)).decode(),  # 248 bits: one byte short
    os.urandom(16).hex(),  # 128 bits as hex
    "deadbeef" * 8,  # 256 bits of a pattern
    "changethis" * 5,  # base64-decodable, but a repeated phrase
    "correcthorsebatterystaplecorrecthorsebatte",  # a memorable phrase
    "a" * 64,
    "not base64 at all !!!! not base64 at all !!!! not base64",
]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=range(len(WEAK_SECRETS)))
def test_a_weak_jwt_secret_refuses_start_up(secret: str, tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "a.sqlite"))
    with pytest.raises(ConfigurationError, match="TRADEFORGE__AUTH__JWT_SECRET"):
        AuthService(
            config=make_config(jwt_secret=secret),
            database=db,
            clock=ReplayClock(0),
            hasher=fast_hasher(),
        )


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=range(len(WEAK_SECRETS)))
def test_a_weak_secret_key_refuses_start_up(secret: str, tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "a.sqlite"))
    with pytest.raises(ConfigurationError, match="TRADEFORGE__AUTH__SECRET_KEY"):
        AuthService(
            config=make_config(secret_key=secret),
            database=db,
            clock=ReplayClock(0),
            hasher=fast_hasher(),
        )


def test_the_default_config_refuses_start_up(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "a.sqlite"))

    with pytest.raises(ConfigurationError, match="missing or a known default"):
        AuthService(config=AuthConfig(), database=db, clock=ReplayClock(0), hasher=fast_hasher())


def test_one_secret_for_both_purposes_is_refused(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "a.sqlite"))
    secret = generate_key_text()

    with pytest.raises(ConfigurationError, match="must differ"):
        AuthService(
            config=make_config(jwt_secret=secret, secret_key=secret),
            database=db,
            clock=ReplayClock(0),
            hasher=fast_hasher(),
        )


def test_generated_secrets_and_random_hex_are_accepted() -> None:
    for _ in range(200):
        assert len(parse_key(generate_key_text(), "jwt_secret")) == 32
        assert len(parse_key(os.urandom(32).hex(), "jwt_secret")) == 32


def test_a_key_file_is_read_and_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    text = generate_key_text()
    path.write_text(text + "\n")
    path.chmod(0o600)

    assert load_key("", str(path), "secret_key") == parse_key(text, "secret_key")

    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_key("", str(path), "secret_key")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_key("", str(tmp_path / "missing"), "secret_key")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_ttl_s", 901),
        ("access_ttl_s", 0),
        ("leeway_s", 31),
        ("max_failures", 100),
        ("max_failures", 250),
        ("login_free_failures", 0),
        ("recv_window_ms", 120_000),
        ("refresh_ttl_s", 60),
        ("min_password_length", 6),
    ],
)
def test_out_of_range_limits_are_refused_naming_the_key(field: str, value: int) -> None:
    with pytest.raises(ConfigurationError, match=f"TRADEFORGE__AUTH__{field.upper()}"):
        AuthConfig(**{field: value})  # type: ignore[arg-type]


def test_the_defaults_meet_the_figures() -> None:
    config = AuthConfig()

    assert config.access_ttl_s <= 15 * 60
    assert config.leeway_s <= 30
    assert config.max_failures < 100
    assert config.recv_window_ms == 5_000
    assert config.ip_failures_per_minute <= 20
