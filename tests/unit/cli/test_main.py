"""``ember.cli.main``: exit statuses, and how an error reaches stderr (without a process)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import ember.cli
from ember.cli import ExitStatus


def test_the_exit_statuses_scripts_rely_on_do_not_change() -> None:
    assert {status.name: int(status) for status in ExitStatus} == {
        "OK": 0,
        "ERROR": 1,
        "APPLICATION_GAVE_UP": 2,
        "DECLARED_DOWN": 3,
        "NAME_TAKEN": 4,
        "NO_ANSWER": 5,
        "HANDSHAKE_REFUSED": 6,
        "INTERNAL_ERROR": 70,
        "INTERRUPTED": 130,
    }


def run_with_handler(monkeypatch: pytest.MonkeyPatch, handler: object, *argv: str) -> int:
    """``main([*argv, "version"])`` with ``ember version``'s handler replaced."""
    monkeypatch.setattr(ember.cli, "version", handler)
    return ember.cli.main([*argv, "version"])


def test_an_unexpected_error_prints_its_traceback_and_exits_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("a bug")

    assert run_with_handler(monkeypatch, broken) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1] == (
        "ember: internal error: ZeroDivisionError: a bug (a bug: please report it with the "
        "traceback above)"
    )


def test_an_ember_error_is_one_line_without_debug_and_a_traceback_with_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(args: argparse.Namespace) -> int:
        raise ember.InvalidArgument("the value is bad:\n give another")

    assert run_with_handler(monkeypatch, refused) == 1
    assert capsys.readouterr().err == "ember: error: the value is bad: give another\n"
    assert run_with_handler(monkeypatch, refused, "--debug") == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback")
    assert err.endswith("ember: error: the value is bad: give another\n")


def test_an_os_error_is_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(args: argparse.Namespace) -> int:
        open("/nonexistent/ember/file")  # noqa: SIM115
        return 0

    assert run_with_handler(monkeypatch, missing) == 1
    err = capsys.readouterr().err
    assert err == "ember: error: /nonexistent/ember/file: No such file or directory\n"


def test_an_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    assert run_with_handler(monkeypatch, interrupted) == 130
    assert capsys.readouterr().err == ""


def test_the_operations_guide_documents_every_exit_status() -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text()
    section = guide.split("## Errors and exit statuses", 1)[1].split("\n## ", 1)[0]
    rows = [row.split("|") for row in section.splitlines() if re.match(r"\| \d+ \|", row)]
    documented = {int(cells[1]) for cells in rows}
    assert documented == {int(status) for status in ExitStatus}
