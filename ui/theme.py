"""Light and dark palettes on the Fusion style, following the system colour scheme.

Fusion looks the same on Windows, macOS and Linux and takes a palette fully, so one style sheet
(``resources/styles/app.qss``) works everywhere. The person can override the system choice in
Settings ("light", "dark" or "system"); the choice is kept in QSettings.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ui import icons
from vrp_desktop.paths import resource_path

SETTING = "appearance/theme"
_STYLED = "vrp_fusion_set"
CHOICES = ("system", "light", "dark")

_LIGHT = {
    QPalette.ColorRole.Window: "#f4f5f7",
    QPalette.ColorRole.WindowText: "#1d232b",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#eef1f4",
    QPalette.ColorRole.Text: "#1d232b",
    QPalette.ColorRole.Button: "#e9ecf0",
    QPalette.ColorRole.ButtonText: "#1d232b",
    QPalette.ColorRole.Highlight: "#1f6f78",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#16606a",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1d232b",
    QPalette.ColorRole.PlaceholderText: "#5f6875",
    QPalette.ColorRole.Mid: "#c5cbd3",
}

_DARK = {
    QPalette.ColorRole.Window: "#1e2227",
    QPalette.ColorRole.WindowText: "#e6e9ed",
    QPalette.ColorRole.Base: "#262b31",
    QPalette.ColorRole.AlternateBase: "#2d333a",
    QPalette.ColorRole.Text: "#e6e9ed",
    QPalette.ColorRole.Button: "#2f353c",
    QPalette.ColorRole.ButtonText: "#e6e9ed",
    QPalette.ColorRole.Highlight: "#3aa0aa",
    QPalette.ColorRole.HighlightedText: "#0d1114",
    QPalette.ColorRole.Link: "#7cc8d0",
    QPalette.ColorRole.ToolTipBase: "#2f353c",
    QPalette.ColorRole.ToolTipText: "#e6e9ed",
    QPalette.ColorRole.PlaceholderText: "#a3abb5",
    QPalette.ColorRole.Mid: "#48505a",
}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def palette(dark: bool) -> QPalette:
    """The application palette for the light or the dark theme."""
    pal = QPalette()
    for role, colour in (_DARK if dark else _LIGHT).items():
        pal.setColor(role, QColor(colour))
    disabled = QColor("#7d8590" if dark else "#8a929c")
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


def chosen(settings: QSettings | None = None) -> str:
    value = str((settings or QSettings()).value(SETTING, "system"))
    return value if value in CHOICES else "system"


def is_dark(choice: str) -> bool:
    return system_is_dark() if choice == "system" else choice == "dark"


def apply(app: QApplication, choice: str | None = None, settings: QSettings | None = None) -> None:
    """Fusion, the palette for ``choice`` (default: the saved one) and the style sheet."""
    choice = choice or chosen(settings)
    if not app.property(_STYLED):
        # once per application: replacing the style object again while a QWizard (ModernStyle)
        # is alive crashes Qt inside the next setStyleSheet, e.g. on switching light/dark
        app.setStyle("Fusion")
        app.setProperty(_STYLED, True)
    app.setPalette(palette(is_dark(choice)))
    path = resource_path("styles", "app.qss")
    app.setStyleSheet(path.read_text(encoding="utf-8") if path.is_file() else "")
    icons.clear_cache()


def follow_system(app: QApplication, settings: QSettings | None = None) -> None:
    """Re-apply the theme when the system switches light/dark, unless the person chose one."""

    def changed(_scheme: Qt.ColorScheme) -> None:
        if chosen(settings) == "system":
            apply(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(changed)
