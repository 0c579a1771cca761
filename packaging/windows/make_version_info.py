"""Write the Windows version resource from the project version (pyproject.toml).

    python packaging/windows/make_version_info.py [OUT]   (default build/windows/version_info.txt)

``build.spec`` calls ``write()`` itself on Windows, so the resource can never be stale.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_OUT = ROOT / "build" / "windows" / "version_info.txt"


def project_version() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def render(version: str) -> str:
    """The resource text; Windows wants four numbers, so "1.2.3rc1" becomes (1, 2, 3, 0)."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not match:
        raise ValueError(f"version {version!r} does not start with MAJOR.MINOR")
    major, minor, patch = (int(part or 0) for part in match.groups())
    template = (HERE / "version_info.template").read_text(encoding="utf-8")
    lines = [line for line in template.splitlines() if not line.startswith("#")]
    text = "\n".join(lines) + "\n"
    # the template's own braces are Python syntax, so fill the named fields one by one
    for key, value in {
        "major": major,
        "minor": minor,
        "patch": patch,
        "version": version,
    }.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def write(out: Path = DEFAULT_OUT, version: str | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(version or project_version()), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
