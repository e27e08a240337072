from __future__ import annotations

import json
import tomllib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tradeforge.runtime import Settings, load_settings
from tradeforge.runtime.show import settings_as_json, settings_as_toml


def test_toml_names_each_source_in_a_comment() -> None:
    settings = load_settings(
        config_file=None,
        environ={"TRADEFORGE__LOG__FORMAT": "json"},
        overrides={"data.dir": "/srv/md"},
    )

    text = settings_as_toml(settings)

    assert 'format = "json"  # TRADEFORGE__LOG__FORMAT' in text
    assert 'dir = "/srv/md"  # --data-dir' in text
    assert 'level = "info"  # default' in text


def test_toml_output_works_as_a_config_file(tmp_path: Path) -> None:
    original = load_settings(
        config_file=None, environ={}, overrides={"log.level": "error", "data.dir": '~/a "b"'}
    )
    path = tmp_path / "shown.toml"
    path.write_text(settings_as_toml(original), encoding="utf-8")

    reloaded = load_settings(config_file=path, environ={}, overrides={})

    assert reloaded.log == original.log
    assert reloaded.data == original.data


@given(st.text())
def test_any_string_value_survives_the_toml_rendering(value: str) -> None:
    settings = load_settings(config_file=None, environ={}, overrides={"data.dir": value})

    document = tomllib.loads(settings_as_toml(settings))

    assert document["data"]["dir"] == value


def test_json_holds_value_and_source_per_key() -> None:
    settings = load_settings(
        config_file=None, environ={"TRADEFORGE__DATA__DIR": "/srv/md"}, overrides={}
    )

    document = json.loads(settings_as_json(settings))

    assert document["data"]["dir"] == {
        "value": "/srv/md",
        "source": {"kind": "env", "name": "TRADEFORGE__DATA__DIR"},
    }
    assert document["log"]["level"] == {
        "value": "info",
        "source": {"kind": "default", "name": None},
    }


def test_secrets_are_never_shown() -> None:
    settings = load_settings(
        config_file=None,
        environ={
            "TRADEFORGE__AUTH__JWT_SECRET": "s3cr3t-value",
            "TRADEFORGE__AUTH__ADMIN_PASSWORD": "pw",
            "TRADEFORGE__REDIS__PASSWORD": "redis-pass",
            "TRADEFORGE__DB__PASSWORD": "db-pass",
        },
        overrides={},
    )
    for text in (settings_as_json(settings), settings_as_toml(settings)):
        assert "s3cr3t-value" not in text
        assert '"pw"' not in text
        assert "redis-pass" not in text
        assert "db-pass" not in text
        assert "***" in text


def test_json_of_default_settings_lists_every_section() -> None:
    document = json.loads(settings_as_json(Settings()))

    assert set(document) == {"log", "data", "auth", "gateway", "redis", "db"}
