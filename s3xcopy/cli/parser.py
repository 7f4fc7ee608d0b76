"""The argparse tree: one sub-command module per command, registered from a table."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol, cast

from .exitcodes import EXIT_CODES_HELP

#: Command -> its module, in ``--help``'s order. Each module defines
#: ``register(subparsers)``, which adds the command's parser and sets ``run``.
COMMAND_MODULES: dict[str, str] = {
    "cp": "s3xcopy.cli.cp",
    "demo": "s3xcopy.cli.demo",
    "lab": "s3xcopy.cli.lab",
    "explain": "s3xcopy.cli.explain",
    "preflight": "s3xcopy.cli.preflight",
    "policy": "s3xcopy.cli.policy",
    "bench": "s3xcopy.cli.bench",
    "sync": "s3xcopy.cli.sync",
}

Runner = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit code 2."""


class _CommandModule(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[ArgumentParser]) -> None: ...


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser(argv: Sequence[str] | None = None) -> ArgumentParser:
    """The parser; when ``argv`` starts with a command, only that command's module is loaded.

    A ``cp`` then does not import the lab, the bench kit or the policy generator (tens
    of milliseconds of a short command's start). Anything else (no command, an option
    first, a mistyped command) gets every command, for help and the list of choices.
    """
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
    first = argv[0] if argv else None
    wanted = [first] if first in COMMAND_MODULES else list(COMMAND_MODULES)
    for command in wanted:
        module = cast(_CommandModule, importlib.import_module(COMMAND_MODULES[command]))
        module.register(subparsers)
    return parser
