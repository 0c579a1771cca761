"""What ``build.spec`` bundles, as plain functions a fast test can check without PyInstaller.

The spec loads this file by path (``packaging/`` is deliberately not a Python package: the name
would shadow the ``packaging`` library PyInstaller itself imports).

Why each list holds what it holds:
- data: the ``resources/`` tree (found at run time through ``vrp_desktop.paths.resource_path``)
  and the Alembic scripts, which Alembic reads as files beside ``vrp_desktop/store/migrate.py``;
- hidden imports: everything loaded by name at run time (pages, command modules, keyring backends,
  the SQLCipher dialect, whatever the migration scripts import);
- excludes: Qt modules the app never uses, and optional extras of our dependencies, so the bundle
  stays small.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Qt modules the app imports (QtCharts, QtSvg and QtPrintSupport beside the three basics);
#: everything else in PySide6 is excluded below. (The Qt libraries QtCharts links against,
#: OpenGL and DBus, still come in as libraries; only their Python bindings, 9 MB, stay out.)
QT_KEEP = frozenset({"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtCharts", "QtPrintSupport"})

#: PySide6 modules (Essentials and Addons, 6.7-6.12) that VRP Desktop never imports. Listed by
#: name so a newer PySide6 that adds a module only costs size, never a broken bundle.
QT_UNUSED = (
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtAxContainer",
    "QtBluetooth",
    "QtCanvasPainter",
    "QtConcurrent",
    "QtDataVisualization",
    "QtDBus",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLocation",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtQml",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtWebView",
    "QtXml",
)

#: optional extras our dependencies try to import, and development tools, none used at run time
#: (openpyxl tries pandas and PIL; pydantic tries email_validator; tests need the rest). numpy
#: ships now: scipy (statistics for the evaluation, HiGHS for disclosure control) needs it.
#: scipy's subpackages that ``scipy.stats`` and ``scipy.optimize`` never load are left out.
PYTHON_EXCLUDES = (
    "tkinter",
    "_tkinter",
    "scipy.cluster",
    "scipy.datasets",
    "scipy.differentiate",
    "scipy.fftpack",
    "scipy.io",
    "scipy.misc",
    "scipy.odr",
    "scipy.signal",
    "pandas",
    "PIL",
    "IPython",
    "matplotlib",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "ruff",
    "PyInstaller",
    "setuptools",
    "pip",
    "lib2to3",
    "pydoc_data",
    "PySide6.scripts",
    # (SQLAlchemy's other dialects stay: alembic.ddl imports every one of them)
    "sqlalchemy.testing",
    "shiboken6.Shiboken.pyi",
)

#: loaded by name at run time, so PyInstaller's import analysis cannot see them
FIXED_HIDDEN_IMPORTS = (
    "sqlcipher3",
    "sqlcipher3.dbapi2",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlcipher",
    "sqlalchemy.sql.default_comparator",
    "alembic.context",
    "alembic.op",
    "alembic.ddl.sqlite",
    "alembic.runtime.migration",
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
    "keyring.backends.chainer",
    "keyring.backends.fail",
    "keyring.backends.null",
    "secretstorage",
    "jeepney",
    # platform keychains: their modules import everywhere; their libraries only where they work
    "keyring.backends.Windows",
    "keyring.backends.macOS",
    # the self-test's optional parts: the one way a missing module shows up is at run time
    "vrp_desktop.sync",
    "vrp_desktop.returns",
    "ui.selftest",
    "vrp_desktop.selftest",
)


def project_version() -> str:
    """The one version: ``[project].version`` in pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def excludes() -> list[str]:
    return [f"PySide6.{name}" for name in QT_UNUSED if name not in QT_KEEP] + list(PYTHON_EXCLUDES)


def _migration_files() -> list[Path]:
    store = ROOT / "vrp_desktop" / "store"
    folder = store / "migrations"
    files = [store / "alembic.ini", folder / "env.py", folder / "script.py.mako"]
    files += sorted((folder / "versions").glob("*.py"))
    return files


def datas() -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) pairs, for every file shipped as data.

    Files are listed one by one (never whole folders) so caches and stray files stay out.
    """
    pairs: list[tuple[str, str]] = []
    resources = ROOT / "resources"
    for path in sorted(resources.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
            pairs.append((str(path), str(path.parent.relative_to(ROOT))))
    for path in _migration_files():
        pairs.append((str(path), str(path.parent.relative_to(ROOT))))
    return pairs


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def migration_imports() -> set[str]:
    """What the Alembic scripts import: they are data files, so analysis never reads them."""
    names: set[str] = set()
    for path in _migration_files():
        if path.suffix == ".py":
            names |= _imports_of(path)
    names.discard("__future__.annotations")
    names.discard("__future__")
    # "from alembic import op" lists alembic.op, already a fixed import; sqlalchemy as sa is fine
    return names


def page_modules() -> list[str]:
    """Modules the main window imports by name (``_lazy(name, "ui.pages.x", "Class")``)."""
    path = ROOT / "ui" / "main_window.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_lazy"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.append(node.args[1].value)
    return sorted(set(found))


def command_modules() -> list[str]:
    """``vrp_desktop.cli.COMMAND_MODULES``: sub-command modules imported by name."""
    path = ROOT / "vrp_desktop" / "cli.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "COMMAND_MODULES":
            return list(ast.literal_eval(node.value))  # type: ignore[arg-type]
    return []


def _module_exists(name: str) -> bool:
    parts = name.split(".")
    base = ROOT.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def own_modules(package: str) -> list[str]:
    """Every module of one of our packages, found on disk (pages written later are covered)."""
    names = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "__pycache__" in path.parts or "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def hidden_imports() -> list[str]:
    """Everything imported by name at run time. Our own modules missing on disk (a page not
    written yet) are left out: the window shows a placeholder for them."""
    ours = [m for m in page_modules() + command_modules() if _module_exists(m) or "." not in m]
    names = set(FIXED_HIDDEN_IMPORTS) | migration_imports() | set(ours)
    if sys.platform == "win32":
        names |= {"win32ctypes.core", "win32ctypes.pywin32.win32cred"}
    names |= set(own_modules("vrp_desktop")) | set(own_modules("ui"))
    names = {n for n in names if not n.startswith(("vrp_desktop.", "ui.")) or _module_exists(n)}
    return sorted(names)


def tarball_name(version: str | None = None) -> str:
    return f"vrp-desktop-{version or project_version()}-linux-x86_64.tar.gz"


# -- pruning the Qt payload ---------------------------------------------------------------------

#: bundle paths (fnmatch, "/"-separated, as PyInstaller names them on every OS) left out of the
#: bundle, with why: Qt's own translations (the app is English only so far: 7 MB); platforms for
#: embedded screens and VNC; the virtual keyboard (it drags in Qt Quick and QML: 17 MB); the GTK
#: theme (we draw our own palette on Fusion, and a bundled GTK stack can clash with the system's);
#: image formats the app never reads (it shows SVG and PNG icons only; PNG is built into QtGui).
DROP_PATTERNS = (
    "PySide6/Qt/translations/*",
    "PySide6/translations/*",
    "PySide6/*plugins/platforms/*eglfs*",
    "PySide6/*plugins/platforms/*linuxfb*",
    "PySide6/*plugins/platforms/*minimalegl*",
    "PySide6/*plugins/platforms/*vkkhrdisplay*",
    "PySide6/*plugins/platforms/*vnc*",
    "PySide6/*plugins/egldeviceintegrations/*",
    "PySide6/*plugins/generic/*",
    "PySide6/*plugins/platforminputcontexts/*virtualkeyboard*",
    "PySide6/*plugins/platformthemes/*gtk3*",
    "PySide6/*plugins/imageformats/*gif*",
    "PySide6/*plugins/imageformats/*icns*",
    "PySide6/*plugins/imageformats/*jpeg*",
    "PySide6/*plugins/imageformats/*tga*",
    "PySide6/*plugins/imageformats/*tiff*",
    "PySide6/*plugins/imageformats/*wbmp*",
    "PySide6/*plugins/imageformats/*webp*",
    "PySide6/*plugins/imageformats/*pdf*",
)


#: Linux libraries every desktop provides and that must match the running system, so the
#: bundle uses the system's copy (the reasoning of AppImage's excludelist): X11/xcb and
#: xkbcommon (Qt's xcb plugin already needs the system's libxcb-cursor), fontconfig and
#: freetype (a bundled fontconfig misreads a newer system's font configuration), D-Bus and
#: GLib (they talk to system services), CUPS (the printers are the system's), and libstdc++
#: (a bundled older one breaks a newer system's OpenGL driver). Their dependencies go too
#: unless something bundled still needs them. Listed in packaging/README.md for IT.
LINUX_SYSTEM_LIBS = (
    "libX11.so.*",
    "libX11-xcb.so.*",
    "libXau.so.*",
    "libXdmcp.so.*",
    "libXext.so.*",
    "libXrender.so.*",
    "libxcb*.so.*",
    "libxkbcommon*.so.*",
    "libfontconfig.so.*",
    "libfreetype.so.*",
    "libdbus-1.so.*",
    "libglib-2.0.so.*",
    "libgobject-2.0.so.*",
    "libgio-2.0.so.*",
    "libgmodule-2.0.so.*",
    "libgthread-2.0.so.*",
    "libcups.so.*",
    "libstdc++.so.*",
    "libgcc_s.so.*",
)


def dropped(dest: str, *, linux: bool = False) -> bool:
    import fnmatch

    dest = dest.replace("\\", "/")
    if any(fnmatch.fnmatchcase(dest, pattern) for pattern in DROP_PATTERNS):
        return True
    name = dest.rsplit("/", 1)[-1]
    return linux and any(fnmatch.fnmatchcase(name, pattern) for pattern in LINUX_SYSTEM_LIBS)


def elf_needed(path: str | Path) -> list[str]:
    """The DT_NEEDED entries of a 64-bit ELF file ([] for anything else): what it links to."""
    import mmap
    import struct

    try:
        with (
            open(path, "rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
        ):
            if m[:4] != b"\x7fELF" or m[4] != 2:
                return []
            e = "<" if m[5] == 1 else ">"
            shoff = struct.unpack_from(e + "Q", m, 0x28)[0]
            shentsize, shnum = struct.unpack_from(e + "HH", m, 0x3A)
            needed: list[str] = []
            for index in range(shnum):
                header = shoff + index * shentsize
                if struct.unpack_from(e + "I", m, header + 4)[0] != 6:  # SHT_DYNAMIC
                    continue
                offset, size = struct.unpack_from(e + "QQ", m, header + 0x18)
                link = struct.unpack_from(e + "I", m, header + 0x28)[0]
                strtab = struct.unpack_from(e + "Q", m, shoff + link * shentsize + 0x18)[0]
                for entry in range(offset, offset + size, 16):
                    tag, value = struct.unpack_from(e + "qQ", m, entry)
                    if tag == 0:
                        break
                    if tag == 1:  # DT_NEEDED
                        end = m.find(b"\0", strtab + value)
                        needed.append(m[strtab + value : end].decode("utf-8", "replace"))
            return needed
    except (OSError, ValueError, struct.error):
        return []


def _closure(starts: list[str], sources: dict[str, str]) -> set[str]:
    """Library names reachable from ``starts`` (bundle basenames) through bundled libraries."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name in seen or name not in sources:
            continue
        seen.add(name)
        stack.extend(elf_needed(sources[name]))
    return seen


def prune(
    binaries: list, datas: list, *, follow_elf: bool | None = None
) -> tuple[list, list, list]:
    """Leave out ``DROP_PATTERNS`` and, on Linux, ``LINUX_SYSTEM_LIBS`` and the libraries only
    they needed.

    A library goes only when a dropped plugin reached it and nothing kept does (extension
    modules, kept plugins and libpython are the roots): libraries loaded with dlopen, which no
    root names, stay. Returns (binaries, datas, removed destination names).
    """
    import os.path
    import sys

    if follow_elf is None:
        follow_elf = sys.platform.startswith("linux")
    gone = [entry for entry in binaries if dropped(entry[0], linux=follow_elf)]
    kept = [entry for entry in binaries if not dropped(entry[0], linux=follow_elf)]
    datas = [entry for entry in datas if not dropped(entry[0], linux=follow_elf)]
    orphans: set[str] = set()
    if follow_elf and gone:
        sources = {os.path.basename(dest): src for dest, src, _kind in binaries}

        def is_root(dest: str, kind: str) -> bool:
            return kind == "EXTENSION" or "/plugins/" in dest or dest.startswith("libpython")

        roots = [os.path.basename(d) for d, _s, kind in kept if is_root(d, kind)]
        # what kept files reach through kept libraries only (a dropped system library is the
        # system's business: its own dependencies come from the system too)
        kept_sources = {os.path.basename(dest): src for dest, src, _kind in kept}
        reach_kept = _closure(roots, kept_sources)
        reach_gone = _closure([os.path.basename(d) for d, _s, _k in gone], sources)
        orphans = reach_gone - reach_kept
        kept = [entry for entry in kept if os.path.basename(entry[0]) not in orphans]
        datas = [
            entry
            for entry in datas
            if not (entry[2] == "SYMLINK" and os.path.basename(entry[0]) in orphans)
        ]
    removed = sorted(d for d, _s, _k in gone) + sorted(orphans)
    return kept, datas, removed
