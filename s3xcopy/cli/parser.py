"""The argparse tree: one sub-command module per command, registered from a table."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import NoReturn, Protocol, cast

from .exitcodes import EXIT_CODES_HELP

#: Each module defines ``register(subparsers)``, which adds its parser and sets ``run``.
COMMAND_MODULES: tuple[str, ...] = (
    "s3xcopy.cli.cp",
    "s3xcopy.cli.demo",
    "s3xcopy.cli.lab",
    "s3xcopy.cli.explain",
    "s3xcopy.cli.preflight",
    "s3xcopy.cli.policy",
    "s3xcopy.cli.bench",
    "s3xcopy.cli.sync",
)

Runner = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit code 2."""


class _CommandModule(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[ArgumentParser]) -> None: ...


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> ArgumentParser:
    from .. import __version__

    parser = ArgumentParser(
        prog="s3xcopy",
        description="Resilient S3-to-S3 copy that names the missing grant on Access Denied.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"s3xcopy {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = cast(_CommandModule, importlib.import_module(name))
        module.register(subparsers)
    return parser
