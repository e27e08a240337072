from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import tradeforge
from tradeforge.runtime.cli import cli
from tradeforge.runtime.overview import SERVICES


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            paths += _command_paths(sub, (*path, name))
    return paths


@pytest.mark.parametrize("path", _command_paths(cli), ids=lambda p: " ".join(("tradeforge", *p)))
def test_every_command_has_help_with_examples(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])

    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout


def test_version_prints_name_and_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.stdout == f"tradeforge {tradeforge.__version__}\n"


def test_no_command_prints_help() -> None:
    result = CliRunner().invoke(cli, [])

    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "overview" in result.stdout


def test_overview_shows_version_data_dir_sources_and_services(tmp_path: Path) -> None:
    data_dir = tmp_path / "md"

    result = CliRunner().invoke(
        cli, ["overview"], env={"TRADEFORGE__DATA__DIR": str(data_dir), "COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    assert f"TradeForge {tradeforge.__version__}" in result.stdout
    assert f"data dir  {data_dir}  (TRADEFORGE__DATA__DIR)" in result.stdout
    assert "defaults < env TRADEFORGE__DATA__DIR" in result.stdout
    for service in SERVICES:
        assert service.name in result.stdout
        assert service.location in result.stdout
    assert "not built yet: the distributed shape" in result.stdout
    assert "core      compiled (mypyc)" in result.stdout or "core      pure Python" in result.stdout


def test_config_show_json_reports_value_and_source() -> None:
    result = CliRunner().invoke(
        cli,
        ["--log-level", "WARNING", "config", "show", "--format", "json"],
        env={"TRADEFORGE__DATA__DIR": "/srv/md"},
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["data"]["dir"] == {
        "value": "/srv/md",
        "source": {"kind": "env", "name": "TRADEFORGE__DATA__DIR"},
    }
    assert document["log"]["level"]["value"] == "warning"
    assert document["log"]["level"]["source"] == {"kind": "cli", "name": "--log-level"}


def test_config_show_reads_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "tradeforge.toml"
    path.write_text('[data]\ndir = "/from/file"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])

    assert result.exit_code == 0, result.output
    assert f'dir = "/from/file"  # {path}' in result.stdout


def test_data_dir_flag_beats_the_environment() -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", "/from/flag", "config", "show", "--format", "json"],
        env={"TRADEFORGE__DATA__DIR": "/from/env"},
    )

    assert json.loads(result.stdout)["data"]["dir"]["value"] == "/from/flag"


def test_bad_env_value_is_one_red_line_and_exit_status_2() -> None:
    result = CliRunner().invoke(
        cli, ["config", "show"], env={"TRADEFORGE__LOG__LEVEL": "loud"}, color=True
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == click.style(
            "error: log.level = 'loud' (from TRADEFORGE__LOG__LEVEL): "
            "expected one of 'debug', 'info', 'warning', 'error'",
            fg="red",
        )
        + "\n"
    )
    assert "Traceback" not in result.output


def test_missing_config_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    result = CliRunner().invoke(cli, ["--config", str(path), "overview"])

    assert result.exit_code == 2
    assert result.stderr == f"error: config file {str(path)!r} not found\n"


@pytest.mark.integration
def test_installed_console_script_prints_the_version() -> None:
    script = Path(sys.executable).parent / "tradeforge"

    completed = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"tradeforge {tradeforge.__version__}\n"
