"""Light and dark palettes on the Fusion style, following the system colour scheme.

Fusion looks the same on Windows, macOS and Linux and takes a palette fully, so one style sheet
(``resources/styles/app.qss``) works everywhere. The person can override the system choice in
Settings ("light", "dark" or "system"); the choice is kept in QSettings.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ui import icons
from vrp_desktop.paths import resource_path

SETTING = "appearance/theme"
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


#: whether the palette applied last is the dark one (None: none applied yet in this process)
_applied_dark: bool | None = None


def system_is_dark() -> bool:
    # the Qt namespace (some 110 enums, ~30 ms to create) is loaded here, never at import:
    # the unlock screen paints before it (see ``apply(before_first_paint=True)``)
    from PySide6.QtCore import Qt

    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def _platform_palette_is_dark(app: QApplication) -> bool:
    """The system's light/dark choice as the platform's own palette shows it (Qt's platform
    themes give a dark palette with a dark colour scheme). Only meaningful before this module
    has set a palette; ``confirm_system`` checks it against ``system_is_dark`` later."""
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


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


def apply(
    app: QApplication,
    choice: str | None = None,
    settings: QSettings | None = None,
    *,
    before_first_paint: bool = False,
) -> None:
    """Fusion, the palette for ``choice`` (default: the saved one) and the style sheet.

    ``before_first_paint`` (start-up): for "system", take the platform's palette as the
    system's choice rather than ``QStyleHints.colorScheme`` (reading that loads the Qt
    namespace, a tenth of the start-up a bare window has); call ``confirm_system`` once the
    first screen has painted, which re-applies in the rare case the two disagree.
    """
    global _applied_dark
    choice = choice or chosen(settings)
    if before_first_paint and choice == "system" and _applied_dark is None:
        dark = _platform_palette_is_dark(app)
    else:
        dark = is_dark(choice)
    _applied_dark = dark
    app.setStyle("Fusion")
    app.setPalette(palette(dark))
    path = resource_path("styles", "app.qss")
    app.setStyleSheet(path.read_text(encoding="utf-8") if path.is_file() else "")
    icons.clear_cache()


def confirm_system(app: QApplication, settings: QSettings | None = None) -> None:
    """After the first paint: re-apply "system" if Qt's colour scheme disagrees with the
    palette guess ``apply(before_first_paint=True)`` made."""
    if chosen(settings) == "system" and system_is_dark() != _applied_dark:
        apply(app, "system", settings)


def follow_system(app: QApplication, settings: QSettings | None = None) -> None:
    """Re-apply the theme when the system switches light/dark, unless the person chose one."""

    def changed(_scheme: object) -> None:
        if chosen(settings) == "system":
            apply(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(changed)
