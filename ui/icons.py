"""Icons from the SVG files in ``resources/icons``, crisp at any scale.

The navigation icons are drawn in one neutral stroke colour; ``icon(name)`` repaints that colour
to the palette's text colour, so the same files serve the light and the dark theme.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, QRectF
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap

from vrp_desktop.paths import resource_path

#: the stroke colour the SVG files are drawn in; replaced by the theme's text colour
SOURCE_STROKE = "#5b6470"
SIZES = (16, 20, 24, 32, 48, 64)


def _colour(role: QPalette.ColorRole) -> str:
    if QGuiApplication.instance() is None:
        return SOURCE_STROKE
    return QGuiApplication.palette().color(role).name()


@functools.cache
def _svg(name: str) -> str:
    return resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")


@functools.cache
def _render(name: str, colour: str, selected: str, scale: float) -> QIcon:
    result = QIcon()
    _add(result, name, colour, scale, QIcon.Mode.Normal)
    _add(result, name, selected, scale, QIcon.Mode.Selected)
    return result


def _add(result: QIcon, name: str, colour: str, scale: float, mode: QIcon.Mode) -> None:
    from PySide6.QtCore import Qt  # neither is needed before the first page's icons
    from PySide6.QtSvg import QSvgRenderer

    data = QByteArray(_svg(name).replace(SOURCE_STROKE, colour).encode("utf-8"))
    renderer = QSvgRenderer(data)
    for size in SIZES:
        pixels = round(size * scale)
        pixmap = QPixmap(pixels, pixels)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, pixels, pixels))
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        result.addPixmap(pixmap, mode)


def icon(name: str) -> QIcon:
    """The icon called ``name`` (file ``resources/icons/<name>.svg``) in the current theme."""
    app = QGuiApplication.instance()
    scale = max(2.0, app.devicePixelRatio()) if app is not None else 2.0
    return _render(
        name,
        _colour(QPalette.ColorRole.WindowText),
        _colour(QPalette.ColorRole.HighlightedText),
        scale,
    )


def app_icon() -> QIcon:
    """The application icon (its own colours, never repainted)."""
    return QIcon(str(resource_path("icons", "app.svg")))


def clear_cache() -> None:
    """Forget rendered icons (after a theme change) so they are repainted in the new colour."""
    _render.cache_clear()
