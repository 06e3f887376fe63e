"""Run ``chatops <args>`` in-process, as a person would in a fresh folder, for the config and CLI tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from chatops.cli import main

#: ``run(*args, env=None, config=None) -> (exit code, stdout, stderr)``.
Run = Callable[..., tuple[int, str, str]]


def cli_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``chatops <args>`` in ``tmp_path`` with only the given CHATOPS_ variables (and ``config`` as ./config.toml).

    Every run must end without a traceback: a person's mistake is one line, never a stack.
    """

    def run(*args: str, env: dict[str, str] | None = None, config: str | None = None) -> tuple[int, str, str]:
        monkeypatch.chdir(tmp_path)
        if config is not None:
            (tmp_path / "config.toml").write_text(config, encoding="utf-8")
        for name in [name for name in os.environ if name.startswith("CHATOPS_")]:
            monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run
