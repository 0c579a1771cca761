"""Pack the built folder into ``dist/vrp-desktop-<version>-linux-x86_64.tar.gz``.

The archive unpacks to one folder that runs in place (``./vrp-desktop``, ``./vrp``) or installs
itself with ``./install.sh``:

    vrp-desktop-<version>/
        vrp-desktop, vrp, _internal/     the PyInstaller one-dir bundle
        install.sh                       per-user or system-wide install, and --uninstall
        share/applications/vrp-desktop.desktop
        share/icons/hicolor/<size>/apps/vrp-desktop.png (+ scalable .svg)
        README.txt

Usage: python packaging/linux/build_tarball.py [--dist dist]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

README = """VRP Desktop {version} for Linux (x86_64)
=====================================

Run in place:      ./vrp-desktop            (the window)
                   ./vrp --help             (the command line)
Check this copy:   ./vrp-desktop --self-test
Install:           ./install.sh             (for you, in ~/.local; as root: /opt, for everyone)
Uninstall:         ~/.local/opt/vrp-desktop/install.sh --uninstall
                   (as root: /opt/vrp-desktop/install.sh --uninstall)

Your workspaces live in ~/.local/share/vrp-desktop unless you chose another folder. Installing,
upgrading and uninstalling never touch them. To move to a new laptop, make a backup
(vrp backup WORKSPACE FILE), copy the file, and restore it there (vrp restore FILE WORKSPACE).

Needs glibc 2.35 or newer (Ubuntu 22.04+, Debian 12+, Fedora 36+) and the desktop libraries every
X11 or Wayland desktop has; on a minimal system install (Debian/Ubuntu names):
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-randr0 libegl1 libfontconfig1 libdbus-1-3
  libglib2.0-0 libcups2 (printing)
"""


def _support():
    spec = importlib.util.spec_from_file_location(
        "vrp_spec_support", HERE.parent / "spec_support.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Same owner and a sane mode for everyone who unpacks it; keep executable bits."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isdir() or info.mode & 0o100:
        info.mode = 0o755
    elif info.isfile():
        info.mode = 0o644
    return info


def build(dist: Path) -> Path:
    support = _support()
    version = support.project_version()
    bundle = dist / "vrp-desktop"
    for name in ("vrp-desktop", "vrp", "_internal"):
        if not (bundle / name).exists():
            raise SystemExit(f"{bundle / name} is missing: run `make bundle` (pyinstaller) first.")
    top = f"vrp-desktop-{version}"
    out = dist / support.tarball_name(version)
    partial = out.with_name(out.name + ".part")
    extras = {
        "install.sh": HERE / "install.sh",
        "share/applications/vrp-desktop.desktop": HERE / "vrp-desktop.desktop",
    }
    for path in sorted((HERE / "icons").rglob("*")):
        if path.is_file():
            extras[f"share/icons/{path.relative_to(HERE / 'icons').as_posix()}"] = path
    readme = dist / "README.txt"
    readme.write_text(README.format(version=version), encoding="utf-8")
    extras["README.txt"] = readme
    started = time.perf_counter()
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        for name in sorted(os.listdir(bundle)):
            tar.add(bundle / name, arcname=f"{top}/{name}", filter=_normalise)
        for arcname, path in sorted(extras.items()):
            tar.add(path, arcname=f"{top}/{arcname}", filter=_normalise)
    os.replace(partial, out)
    readme.unlink()
    took = time.perf_counter() - started
    print(f"{out} ({out.stat().st_size / 1e6:.1f} MB compressed, packed in {took:.1f} s)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    build(args.dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
