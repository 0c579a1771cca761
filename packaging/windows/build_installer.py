"""Run Inno Setup's compiler on vrp-desktop.iss with the project version (Windows only).

Usage (in the repository folder): python packaging/windows/build_installer.py [ISCC.exe path]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_version_info import project_version  # noqa: E402

DEFAULT_ISCC = Path(r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe")


def main(argv: list[str]) -> int:
    iscc = argv[0] if argv else (shutil.which("iscc") or str(DEFAULT_ISCC))
    if not (HERE.parent.parent / "dist" / "vrp-desktop" / "vrp-desktop.exe").is_file():
        print("dist\\vrp-desktop\\vrp-desktop.exe is missing: run pyinstaller build.spec first.")
        return 1
    command = [iscc, f"/DAppVersion={project_version()}", str(HERE / "vrp-desktop.iss")]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
