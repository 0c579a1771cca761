"""The page shown when another page fails to load, built on a simple information page.

Neither is a dead end: each says what happened, what to do, and offers a way on.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.context import AppContext


class InfoPage(QWidget):
    """A title, a few paragraphs and buttons that lead somewhere useful."""

    def __init__(
        self,
        ctx: AppContext,
        title: str,
        paragraphs: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        heading = QLabel(title, self)
        heading.setProperty("role", "page-title")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(heading)
        from PySide6.QtCore import Qt  # not at import: the window imports this before it paints

        for text in paragraphs:
            label = QLabel(text, self)
            label.setWordWrap(True)
            label.setMaximumWidth(720)
            label.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(label)
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)
        self.buttons.addStretch(1)
        layout.addStretch(1)

    def add_button(self, text: str, page: str, record_id: str = "") -> QPushButton:
        button = QPushButton(text, self)
        button.clicked.connect(lambda: self.ctx.navigate.emit(page, record_id))
        self.buttons.insertWidget(self.buttons.count() - 1, button)
        return button


class FailedPage(InfoPage):
    """Shown in place of a page that could not be loaded (a bug, or not built yet)."""

    def __init__(self, ctx: AppContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx,
            title,
            [
                f"The {title} page failed to load in this version of VRP Desktop.",
                "Your records are safe. The other pages still work; if this keeps happening, "
                "tell whoever looks after VRP Desktop for your organisation.",
            ],
            parent,
        )
        self.add_button("Go to Today", "today")
