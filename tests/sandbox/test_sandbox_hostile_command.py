"""``chatops sandbox`` given a data folder it cannot use: one line naming ``--data``, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatops.cli import main


def test_a_data_folder_that_cannot_be_written_is_one_line_naming_data_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # It was a 40-line traceback (OSError saving the channels while stopping the half-started bot), exit 1.
    # /proc/self is a folder nobody can create files in, root included (chmod would not stop root).
    unwritable = Path("/proc/self")
    if not unwritable.is_dir():
        pytest.skip("needs Linux's /proc")
    status = main(["sandbox", "--no-browser", "--port", "0", "--data", str(unwritable)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chatops sandbox: --data /proc/self: cannot write there"), err
