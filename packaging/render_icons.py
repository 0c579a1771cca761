"""Render the app icon (``resources/icons/app.svg``) into the files each OS wants.

Run after changing the SVG, then commit the results (they are small):

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

- ``packaging/linux/icons/hicolor/<n>x<n>/apps/vrp-desktop.png`` and ``scalable/.../.svg``;
- ``packaging/windows/vrp-desktop.ico`` (PNG-compressed entries, Windows Vista and later);
- ``packaging/macos/vrp-desktop.icns`` (PNG entries, macOS 10.7 and later).

The .ico and .icns containers are written here byte by byte (both are a small header and a table
of PNG images), so no image library beyond Qt is needed.
"""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "resources" / "icons" / "app.svg"
NAME = "vrp-desktop"
LINUX_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS entry types that hold PNG data, by pixel size (ic11-ic14 are the @2x variants)
ICNS_TYPES = (
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def png_bytes(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"Qt could not encode a {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """An .ico file whose entries are PNG images (allowed since Windows Vista)."""
    sizes = sorted(images)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    table, blobs = b"", b""
    for size in sizes:
        data = images[size]
        side = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        table += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + table + blobs


def icns(images: dict[int, bytes]) -> bytes:
    body = b""
    for kind, size in ICNS_TYPES:
        data = images[size]
        body += kind + struct.pack(">I", len(data) + 8) + data
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot read {SVG}", file=sys.stderr)
        return 1
    sizes = sorted(set(LINUX_SIZES) | set(ICO_SIZES) | {s for _k, s in ICNS_TYPES})
    images = {size: png_bytes(renderer, size) for size in sizes}

    hicolor = HERE / "linux" / "icons" / "hicolor"
    for size in LINUX_SIZES:
        out = hicolor / f"{size}x{size}" / "apps" / f"{NAME}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(images[size])
    scalable = hicolor / "scalable" / "apps" / f"{NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable)

    (HERE / "windows").mkdir(exist_ok=True)
    (HERE / "windows" / f"{NAME}.ico").write_bytes(ico({s: images[s] for s in ICO_SIZES}))
    (HERE / "macos").mkdir(exist_ok=True)
    (HERE / "macos" / f"{NAME}.icns").write_bytes(icns(images))
    print(f"rendered {len(sizes)} sizes from {SVG.name}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
