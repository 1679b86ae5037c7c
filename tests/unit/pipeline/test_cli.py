"""The command line: every subcommand is found, and bad configuration is reported, not raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import build_parser, main


def test_every_command_module_registers_its_subcommand() -> None:
    help_text = build_parser().format_help()
    for command in ("worker", "broker", "demo", "schemas"):
        assert command in help_text


def test_schemas_export_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", "export", str(tmp_path)]) == 0
    assert (tmp_path / "sensor_reading.schema.json").is_file()
    assert "warning.schema.json" in capsys.readouterr().out


def test_bad_configuration_exits_2_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISKWATCH_WEB_PORT", "not-a-port")
    assert main(["schemas", "export", "/nonexistent/never-written"]) == 2
    assert "RISKWATCH_WEB_PORT" in capsys.readouterr().err


def test_a_silence_without_a_matcher_is_refused_before_anything_is_sent() -> None:
    argv = ["silence", "add", "--for", "2h", "--author", "li.wei", "--comment", "pump replacement"]
    with pytest.raises(SystemExit, match="a silence needs at least one of community, hazard, device"):
        main(argv)
