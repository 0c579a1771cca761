"""The core never imports Qt: importing every ``vrp_desktop`` module leaves PySide6 unloaded.

Run in a fresh interpreter, since this test process has Qt loaded already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import importlib, pkgutil, sys
import vrp_desktop
names = []
for info in pkgutil.walk_packages(vrp_desktop.__path__, "vrp_desktop."):
    if ".migrations." in info.name or info.name.endswith(".migrations"):
        continue
    importlib.import_module(info.name)
    names.append(info.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"))
print(len(names))
print(",".join(qt))
"""


def test_core_does_not_import_qt():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.splitlines()
    count, qt = lines[0], lines[1] if len(lines) > 1 else ""
    assert int(count) > 20  # really walked the package
    assert qt == "", f"vrp_desktop pulled in Qt: {qt}"
