#!/usr/bin/env python3
"""Set up and run s3xcopy on a fresh machine with only Python 3.10+ and pip.

    python3 dev.py demo    # make .venv, install s3xcopy[demo], run `s3xcopy demo`
    python3 dev.py test    # make .venv, install s3xcopy[test], run ruff, mypy and pytest

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k planner`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("S3XCOPY_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def setup(extra: str) -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - dev.py must explain, not crash, on old Pythons
        sys.exit(f"s3xcopy needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        run(sys.executable, "-m", "venv", VENV)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".[{extra}]")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    try:
        if command == "demo":
            setup("demo")
            run(BIN / "s3xcopy", "demo", *argv[1:])
        elif command == "test":
            setup("test")
            paths = [p for p in ("s3xcopy", "tests", "benchmarks", "dev.py") if (ROOT / p).exists()]
            run(BIN / "ruff", "check", *paths)
            run(BIN / "ruff", "format", "--check", *paths)
            run(BIN / "mypy")
            run(BIN / "python", "-m", "pytest", *argv[1:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
