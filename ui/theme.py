"""Light and dark palettes on the Fusion style, following the system colour scheme.

Fusion looks the same on Windows, macOS and Linux and takes a palette fully, so one style sheet
(``resources/styles/app.qss``) works everywhere. The person can override the system choice in
Settings ("light", "dark" or "system"); the choice is kept in QSettings.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

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


#: colours that say something (a problem, a warning, all well), as (light, dark): each is at
#: least 4.5:1 against the window and the base colour of its own palette. The style sheet names
#: them as @error@ etc.; widgets ask for one with ``set_tone`` rather than a colour of their own,
#: so they follow a light/dark switch.
TONES = {
    "error": ("#b3261e", "#ff8a80"),
    "warning": ("#8a4f00", "#f2b45a"),
    "ok": ("#1d6b3a", "#7fd69b"),
    "error-bg": ("#fdecec", "#3b2326"),
    "ok-bg": ("#e8f4ec", "#1f3528"),
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
    if not app.property(_STYLED):
        # once per application: replacing the style object again while a QWizard (ModernStyle)
        # is alive crashes Qt inside the next setStyleSheet, e.g. on switching light/dark
        app.setStyle("Fusion")
        app.setProperty(_STYLED, True)
    app.setPalette(palette(dark))
    path = resource_path("styles", "app.qss")
    sheet = path.read_text(encoding="utf-8") if path.is_file() else ""
    app.setStyleSheet(style_sheet(sheet, dark))
    icons.clear_cache()


def style_sheet(sheet: str, dark: bool) -> str:
    """``sheet`` with each @tone@ replaced by that tone's colour in the light or dark palette."""
    for name, (light, dark_colour) in TONES.items():
        sheet = sheet.replace(f"@{name}@", dark_colour if dark else light)
    check = resource_path("icons", f"check-{'dark' if dark else 'light'}.svg")
    return sheet.replace("@check@", check.as_posix())


def app_is_dark() -> bool:
    """Whether the palette in use now is a dark one (whatever chose it)."""
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def tone(name: str) -> str:
    """The colour of tone ``name`` in the palette in use now (for painting, not style sheets)."""
    light, dark = TONES[name]
    return dark if app_is_dark() else light


def set_tone(widget: QWidget, name: str | None) -> None:
    """Colour ``widget``'s text as an error, a warning or all well (None: the usual colour).

    The style sheet holds the colours, so a light/dark switch recolours it too."""
    if widget.property("tone") == name:
        return
    widget.setProperty("tone", name)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


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
