"""The wheel installs chatops and chatops_plugins, never a bare top-level ``plugins``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_plugin_directory_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {"chatops_plugins." + p.parent.name for p in (ROOT / "plugins").glob("*/__init__.py")}
    on_disk |= {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "chatops").rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_wheel_has_no_top_level_plugins_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("chatops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert "plugins" not in tops
    assert "chatops_plugins/webhook/source.py" in names
    assert "chatops/migrations/versions/0001_initial_schema.py" in names
    assert "chatops/migrations/script.py.mako" in names
    # The sandbox page's script and style are package data, not Python modules.
    assert "chatops/sandbox/static/sandbox.js" in names
    assert "chatops/sandbox/static/sandbox.css" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "webhook = chatops_plugins.webhook" in zipfile.ZipFile(wheel).read(entry_points).decode()
