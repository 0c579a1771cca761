"""The bundle's recipe, checked without building it: the spec parses, every data file it lists
exists, what is loaded by name is a hidden import, and the icons and installer inputs are sound."""

from __future__ import annotations

import ast
import importlib.util
import plistlib
import re
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


support = _load("vrp_spec_support", PACKAGING / "spec_support.py")


def test_build_spec_is_valid_python_and_uses_the_support_module():
    source = (ROOT / "build.spec").read_text(encoding="utf-8")
    tree = ast.parse(source, filename="build.spec")
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= called
    assert "upx=True" not in source.replace(" ", "")
    assert "spec_support.py" in source


def test_version_has_one_source():
    from vrp_desktop import __version__

    assert support.project_version() == __version__
    assert support.tarball_name("1.2.3") == "vrp-desktop-1.2.3-linux-x86_64.tar.gz"


def test_every_listed_data_file_exists_and_the_needed_ones_are_listed():
    pairs = support.datas()
    for source, dest in pairs:
        assert Path(source).is_file(), source
        assert not Path(dest).is_absolute()
    shipped = {(Path(dest) / Path(source).name).as_posix() for source, dest in pairs}
    needed = {
        "vrp_desktop/store/alembic.ini",
        "vrp_desktop/store/migrations/env.py",
        "vrp_desktop/store/migrations/script.py.mako",
        "resources/styles/app.qss",
        "resources/icons/app.svg",
    }
    needed |= {
        p.relative_to(ROOT).as_posix()
        for pattern in ("vrp_desktop/store/migrations/versions/*.py", "resources/*/*.json")
        for p in ROOT.glob(pattern)
    }
    assert needed <= shipped
    assert not any("__pycache__" in s for s in shipped)


def test_names_loaded_at_run_time_are_hidden_imports():
    hidden = set(support.hidden_imports())
    assert {
        "sqlcipher3",
        "sqlalchemy.dialects.sqlite.pysqlcipher",
        "alembic.op",
        "keyring.backends.SecretService",
        "vrp_desktop.selftest",
        "ui.selftest",
    } <= hidden
    pages = support.page_modules()
    assert "ui.pages.today" in pages
    for module in pages:
        exists = (ROOT / (module.replace(".", "/") + ".py")).is_file()
        assert (module in hidden) == exists, module
    from vrp_desktop.cli import COMMAND_MODULES

    assert set(COMMAND_MODULES) <= hidden
    # whatever the migration scripts import reaches the bundle too
    assert "sqlalchemy" in hidden and "alembic" in hidden
    for name in hidden:
        if name.startswith(("vrp_desktop.", "ui.")):
            assert importlib.util.find_spec(name) is not None, name


def test_qt_modules_the_app_imports_are_not_excluded():
    excluded = set(support.excludes())
    used = set()
    for path in [*(ROOT / "ui").rglob("*.py"), PACKAGING / "render_icons.py"]:
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert used, "the UI imports Qt modules"
    assert not {f"PySide6.{m}" for m in used} & excluded
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQuick", "PySide6.QtMultimedia"} <= excluded
    assert not any(e.startswith(("vrp_desktop", "ui")) for e in excluded)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF libraries")
def test_pruning_drops_what_only_dropped_plugins_need():
    """On the real PySide6 files: the virtual keyboard plugin goes with Qt Quick, which nothing
    kept needs; QtGui stays because the xcb platform plugin needs it."""
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    lib, plugins = qt / "lib", qt / "plugins"
    keyboard = plugins / "platforminputcontexts" / "libqtvirtualkeyboardplugin.so"
    xcb = plugins / "platforms" / "libqxcb.so"
    if not keyboard.is_file() or not xcb.is_file():
        pytest.skip("this PySide6 has no virtual keyboard or xcb plugin")
    binaries = [
        (f"PySide6/Qt/plugins/{p.parent.name}/{p.name}", str(p), "BINARY") for p in (keyboard, xcb)
    ]
    binaries += [
        (f"PySide6/Qt/lib/{p.name}", str(p), "BINARY")
        for p in sorted(lib.glob("libQt6*.so.6")) + sorted(lib.glob("libicu*.so.*"))
    ]
    datas = [("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK")]
    kept, kept_datas, removed = support.prune(binaries, datas, follow_elf=True)
    names = {Path(d).name for d, _s, _k in kept}
    assert "libqtvirtualkeyboardplugin.so" not in names
    assert {"libqxcb.so", "libQt6Gui.so.6", "libQt6Core.so.6", "libQt6XcbQpa.so.6"} <= names
    assert "libQt6Quick.so.6" in removed and "libQt6Quick.so.6" not in names
    assert kept_datas == []  # the dangling link to Qt Quick went too
    assert "libQt6Core.so.6" in support.elf_needed(lib / "libQt6Gui.so.6")


def test_system_libraries_are_left_to_linux_only():
    assert support.dropped("libstdc++.so.6", linux=True)
    assert support.dropped("libxcb-cursor.so.0", linux=True)
    assert not support.dropped("libstdc++.so.6", linux=False)
    assert not support.dropped("libcrypto.so.3", linux=True)  # Python's ssl needs OpenSSL 3
    assert support.dropped("PySide6/Qt/translations/qtbase_de.qm")
    assert not support.dropped("resources/translations/app_cy.qm")
    assert not support.dropped("PySide6/Qt/plugins/imageformats/libqsvg.so")


def test_icons_rendered_for_every_system():
    hicolor = PACKAGING / "linux" / "icons" / "hicolor"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = (hicolor / f"{size}x{size}" / "apps" / "vrp-desktop.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)
    assert (hicolor / "scalable" / "apps" / "vrp-desktop.svg").read_bytes() == (
        ROOT / "resources" / "icons" / "app.svg"
    ).read_bytes()
    ico = (PACKAGING / "windows" / "vrp-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 6
    sides = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sides
    icns = (PACKAGING / "macos" / "vrp-desktop.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_desktop_entry_and_plist():
    entry = (PACKAGING / "linux" / "vrp-desktop.desktop").read_text(encoding="utf-8")
    lines = entry.splitlines()
    assert lines[0] == "[Desktop Entry]"
    fields = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert fields["Type"] == "Application" and fields["Icon"] == "vrp-desktop"
    assert fields["Exec"].split()[0] == "vrp-desktop" and fields["Terminal"] == "false"
    assert fields["Categories"].endswith(";")
    with (PACKAGING / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert info["NSHighResolutionCapable"] is True
    assert "CFBundleShortVersionString" not in info  # filled from pyproject by build.spec


def test_windows_version_resource_follows_the_project_version():
    maker = _load("make_version_info", PACKAGING / "windows" / "make_version_info.py")
    text = maker.render("2.3.4rc1")

    def record(*args, **kwargs):
        return (args, kwargs)

    names = (
        "VSVersionInfo FixedFileInfo StringFileInfo StringTable StringStruct VarFileInfo VarStruct"
    )
    resource = eval(text, {name: record for name in names.split()})  # the format is Python
    fixed = resource[1]["ffi"][1]
    assert fixed["filevers"] == (2, 3, 4, 0) and fixed["prodvers"] == (2, 3, 4, 0)
    assert "'2.3.4rc1'" in text
    iss = (PACKAGING / "windows" / "vrp-desktop.iss").read_text(encoding="utf-8")
    assert "{#AppVersion}" in iss and "PrivilegesRequired=lowest" in iss
    assert "vrp-desktop.ico" in iss
