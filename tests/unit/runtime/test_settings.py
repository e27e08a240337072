from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from tradeforge.data import DataConfig
from tradeforge.gateway.config import GatewayConfig, RedisConfig
from tradeforge.observability import LogConfig
from tradeforge.runtime import ConfigurationError, Settings, Source, load_settings
from tradeforge.runtime.settings import known_keys


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tradeforge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, object] | None = None,
) -> Settings:
    return load_settings(config_file=config_file, environ=environ or {}, overrides=overrides or {})


# --- precedence: defaults < file < env < CLI ---


def test_without_sources_every_key_holds_its_default() -> None:
    settings = _load()

    assert settings.log == LogConfig()
    assert settings.data == DataConfig()
    assert {e.source for e in settings.entries()} == {Source(kind="default")}


def test_file_overrides_defaults(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[log]\nlevel = "debug"\n\n[data]\ndir = "/srv/md"\n')

    settings = _load(config_file=path)

    assert settings.log.level == "debug"
    assert settings.log.format == "console"
    assert settings.data.dir == "/srv/md"
    assert settings.source_of("data.dir") == Source(kind="file", name=str(path))
    assert settings.source_of("log.format") == Source(kind="default")


def test_env_overrides_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[data]\ndir = "/from/file"\n')

    settings = _load(config_file=path, environ={"TRADEFORGE__DATA__DIR": "/from/env"})

    assert settings.data.dir == "/from/env"
    assert settings.source_of("data.dir") == Source(kind="env", name="TRADEFORGE__DATA__DIR")


def test_cli_overrides_env() -> None:
    settings = _load(environ={"TRADEFORGE__LOG__LEVEL": "debug"}, overrides={"log.level": "error"})

    assert settings.log.level == "error"
    assert settings.source_of("log.level") == Source(kind="cli", name="--log-level")


def test_env_names_are_case_insensitive() -> None:
    settings = _load(environ={"tradeforge__Log__FORMAT": "json"})

    assert settings.log.format == "json"
    assert settings.source_of("log.format") == Source(kind="env", name="tradeforge__Log__FORMAT")


def test_other_env_vars_are_ignored() -> None:
    settings = _load(environ={"HOME": "/root", "TRADEFORGE_HOME": "/x", "LOG__LEVEL": "loud"})

    assert settings == Settings()


def test_an_overridden_value_is_not_validated() -> None:
    # Only the winning value matters: a flag can rescue a run from a bad env var.
    settings = _load(environ={"TRADEFORGE__LOG__LEVEL": "loud"}, overrides={"log.level": "info"})

    assert settings.log.level == "info"


def test_entries_report_every_key_with_value_and_source() -> None:
    settings = _load(overrides={"data.dir": "/srv/md"})

    entries = {e.key: (e.value, str(e.source)) for e in settings.entries()}

    sections = ("auth.", "gateway.", "redis.", "db.")
    assert {k: v for k, v in entries.items() if not k.startswith(sections)} == {
        "log.level": ("info", "default"),
        "log.format": ("console", "default"),
        "data.dir": ("/srv/md", "--data-dir"),
    }
    assert entries["auth.access_ttl_s"] == (900, "default")
    assert entries["gateway.rate_limit_per_key"] == (600, "default")
    assert entries["redis.url"] == ("", "default")
    assert entries["db.url"] == ("", "default")
    assert list(known_keys()) == list(entries)


# --- errors name the key, the value and the source ---


def test_bad_env_value_names_key_value_and_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _load(environ={"TRADEFORGE__LOG__LEVEL": "loud"})

    assert str(caught.value) == (
        "log.level = 'loud' (from TRADEFORGE__LOG__LEVEL): "
        "expected one of 'debug', 'info', 'warning', 'error'"
    )


def test_bad_file_value_names_key_value_and_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[log]\nformat = "xml"\n')

    with pytest.raises(ConfigurationError) as caught:
        _load(config_file=path)

    assert str(caught.value) == (
        f"log.format = 'xml' (from {path}): expected one of 'console', 'json'"
    )


def test_wrong_type_in_file_names_the_types(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[data]\ndir = 3\n")

    with pytest.raises(ConfigurationError) as caught:
        _load(config_file=path)

    assert str(caught.value) == f"data.dir = 3 (from {path}): expected `str`, got `int`"


def test_bad_override_names_the_flag() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _load(overrides={"log.level": "loud"})

    assert str(caught.value).startswith("log.level = 'loud' (from --log-level): expected one of")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[log]\ncolour = true\n", "log.colour"),
        ("[logging]\nlevel = 'info'\n", "logging.level"),
        ("level = 'info'\n", "level"),
    ],
)
def test_unknown_key_in_file_is_an_error_naming_it(tmp_path: Path, text: str, key: str) -> None:
    path = _toml(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        _load(config_file=path)

    assert str(caught.value).startswith(f"unknown setting {key!r} (from {path}); known settings:")


def test_unknown_key_in_env_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _load(environ={"TRADEFORGE__DATA__FOLDER": "/srv"})

    assert str(caught.value) == (
        "unknown setting 'data.folder' (from TRADEFORGE__DATA__FOLDER); known settings: data.dir"
    )


def test_unknown_override_is_an_error_naming_its_flag() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown setting 'data\.root' \(from --data-root\)"
    ):
        _load(overrides={"data.root": "/srv"})


def test_missing_config_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigurationError) as caught:
        _load(config_file=path)

    assert str(caught.value) == f"config file {str(path)!r} not found"


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[log]\nlevel = "info"\nformat = \n')

    with pytest.raises(ConfigurationError) as caught:
        _load(config_file=path)

    message = str(caught.value)
    assert message.startswith(f"config file {str(path)!r} is not valid TOML:")
    assert "line 3" in message


# --- the structs themselves ---


def test_data_path_expands_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert DataConfig().path == tmp_path / ".tradeforge" / "data"
    assert DataConfig(dir="~/md").path == tmp_path / "md"
    assert DataConfig(dir="/srv/md").path == Path("/srv/md")


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(AttributeError):
        settings.log = LogConfig(level="debug")  # type: ignore[misc]


@pytest.mark.parametrize("struct", [LogConfig, DataConfig, GatewayConfig, RedisConfig])
def test_section_structs_refuse_unknown_fields(struct: type[msgspec.Struct]) -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"colour": "red"}, struct)


def test_asking_for_an_unknown_key_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown setting 'log\.colour'"):
        Settings().value_of("log.colour")


# --- gateway and redis sections ---


def test_redis_url_and_gateway_limits_come_from_the_environment() -> None:
    settings = _load(
        environ={
            "TRADEFORGE__REDIS__URL": "redis://127.0.0.1:6379/2",
            "TRADEFORGE__GATEWAY__RATE_LIMIT_PER_KEY": "100",
            "TRADEFORGE__GATEWAY__RATE_LIMIT_WINDOW_S": "10",
        }
    )

    assert settings.redis.url == "redis://127.0.0.1:6379/2"
    assert settings.gateway.rate_limit_per_key == 100
    assert settings.gateway.rate_limit_window_s == 10
    assert settings.source_of("redis.url") == Source(kind="env", name="TRADEFORGE__REDIS__URL")


def test_a_list_in_an_env_var_is_comma_separated() -> None:
    settings = _load(
        environ={
            "TRADEFORGE__GATEWAY__CORS_ORIGINS": "https://app.example.com, http://localhost:5173"
        }
    )

    assert settings.gateway.cors_origins == ("https://app.example.com", "http://localhost:5173")


def test_a_list_in_the_file_is_a_toml_array(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[gateway]\ncors_origins = ["https://app.example.com"]\n')

    assert _load(config_file=path).gateway.cors_origins == ("https://app.example.com",)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRADEFORGE__GATEWAY__CORS_ORIGINS", "*", "TRADEFORGE__GATEWAY__CORS_ORIGINS = '*'"),
        ("TRADEFORGE__GATEWAY__CORS_ORIGINS", "https://a.example/path", "no path"),
        ("TRADEFORGE__GATEWAY__RATE_LIMIT_PER_IP", "-1", "TRADEFORGE__GATEWAY__RATE_LIMIT_PER_IP"),
        ("TRADEFORGE__GATEWAY__RATE_LIMIT_WINDOW_S", "0", "1..86400"),
        ("TRADEFORGE__GATEWAY__TRUSTED_PROXIES", "my-proxy", "IP addresses or networks"),
        ("TRADEFORGE__REDIS__URL", "http://127.0.0.1:6379", "TRADEFORGE__REDIS__URL"),
        ("TRADEFORGE__REDIS__URL", "redis://:pw@127.0.0.1:6379/0", "TRADEFORGE__REDIS__PASSWORD"),
    ],
)
def test_bad_gateway_settings_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        _load(environ={variable: value})
