"""The console script's garbage collection: imports' objects and those alive at exit frozen."""

from __future__ import annotations

import gc

import pytest

from s3xcopy import cli


def _collectable(thing: object) -> bool:
    """Whether the collector still walks ``thing`` (a frozen object is in no generation)."""
    return any(candidate is thing for candidate in gc.get_objects())


def test_console_main_freezes_before_and_after_main_and_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_before: list[object] = [object()]
    made_by_main: list[list[object]] = []
    seen_in_main: list[bool] = []

    def fake_main() -> int:
        seen_in_main.append(_collectable(made_before))
        made_by_main.append([object()])
        return 3

    monkeypatch.setattr(cli, "main", fake_main)
    assert _collectable(made_before)
    try:
        with pytest.raises(SystemExit) as exited:
            cli.console_main()
        assert exited.value.code == 3
        assert seen_in_main == [False]  # frozen before main ran
        assert not _collectable(made_by_main[0])  # and what main made, at exit
    finally:
        gc.unfreeze()
    assert _collectable(made_before)


def test_console_main_freezes_at_exit_when_main_leaves_by_system_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_by_main: list[list[object]] = []

    def help_and_exit() -> int:  # what argparse does for --help and --version
        made_by_main.append([object()])
        raise SystemExit(0)

    monkeypatch.setattr(cli, "main", help_and_exit)
    try:
        with pytest.raises(SystemExit) as exited:
            cli.console_main()
        assert exited.value.code == 0
        assert not _collectable(made_by_main[0])
    finally:
        gc.unfreeze()
