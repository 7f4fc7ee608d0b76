"""The argparse tree: every command registered for help, only the named one for a run."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from s3xcopy.cli import main
from s3xcopy.cli.parser import COMMAND_MODULES, build_parser


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["cpp", "s3://a/b"]])
def test_without_a_command_first_every_command_is_there_in_help_order(argv: list[str]) -> None:
    assert _commands(build_parser(argv)) == list(COMMAND_MODULES)


@pytest.mark.parametrize("command", list(COMMAND_MODULES))
def test_a_command_first_registers_that_command_only(command: str) -> None:
    assert _commands(build_parser([command, "--whatever"])) == [command]


def test_a_mistyped_command_lists_every_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cpp", "s3://a/b", "s3://c/d"]) == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'cpp'" in error
    assert all(f"'{command}'" in error for command in COMMAND_MODULES)


def test_a_cp_loads_neither_other_commands_nor_the_policy_engine() -> None:
    """Start-up cost: the lab, bench and explain commands, and the diagnosis catalog with
    the policy engine behind it (loaded on the first refusal), stay out of a cp."""
    probe = (
        "import sys\n"
        "from s3xcopy.cli.parser import build_parser\n"
        "build_parser(['cp', 's3://a/b', 's3://c/d'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('s3xcopy.')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "'s3xcopy.cli.cp'" in loaded
    assert "'s3xcopy.engine'" in loaded
    for other in (
        "s3xcopy.cli.lab",
        "s3xcopy.cli.bench",
        "s3xcopy.cli.explain",
        "s3xcopy.lab",
        "s3xcopy.policy",
        "s3xcopy.diagnosis.catalog",
    ):
        assert f"'{other}'" not in loaded
