"""The Latent studio panel: generate, retrieve and edit shapes in the model's latent space.

One dock with three pages, each a panel of its own on the window's viewport:

- **Generate** (:mod:`~vaeviewer.gui.panels.studio_generate`): samples from the
  prior or the aggregate posterior, each beside its nearest training shape;
- **Retrieve** (:mod:`~vaeviewer.gui.panels.studio_retrieve`): the shapes of the
  open split nearest to a file opened or dropped on it;
- **Edit** (:mod:`~vaeviewer.gui.panels.studio_edit`): sliders along principal
  directions and attribute vectors, decoded as they move.

The page in front owns the viewport while the studio does; a sample or a query
sent to Edit brings that page to the front. Their latent indices are cached on
disk per checkpoint and data set, so the pages share the encoding of a split.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.panels.studio_edit import EditPage
from vaeviewer.gui.panels.studio_generate import COPY_CHAMFER, GeneratePage
from vaeviewer.gui.panels.studio_retrieve import RetrievePage
from vaeviewer.gui.viewport import Viewport
from vaeviewer.workflows.session import ViewerSession

__all__ = ["COPY_CHAMFER", "STUDIO_PAGES", "StudioPanel"]

#: The studio's pages, in tab order; ``vaeviewer gui --panel generate|retrieve|edit`` opens one.
STUDIO_PAGES = ("generate", "retrieve", "edit")


class StudioPanel(Panel):
    """The three pages of the latent studio in one dock (see the module).

    Attributes
    ----------
    tabs : QTabWidget
    generate, retrieve, edit : Panel
        The pages.
    """

    name = "studio"
    title = "Latent studio"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self.generate = GeneratePage(session, viewport)
        self.retrieve = RetrievePage(session, viewport)
        self.edit = EditPage(session, viewport)
        self.tabs = QTabWidget()
        for page in self.pages:
            self.tabs.addTab(page, page.title)
            page.view_requested.connect(lambda page=page: self._page_wants_view(page))
            page.status.connect(self.status)
            page.error.connect(self.error)
        for page in (self.generate, self.retrieve):
            page.edit_requested.connect(self._edit_shape)
        self._current: Panel = self.generate
        self.tabs.currentChanged.connect(self._on_tab)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    @property
    def pages(self) -> tuple[Panel, ...]:
        """Generate, Retrieve and Edit."""
        return (self.generate, self.retrieve, self.edit)

    @property
    def current_page(self) -> Panel:
        """The page in front."""
        return self._current

    def page(self, name: str) -> Panel:
        """The page called ``name`` (one of :data:`STUDIO_PAGES`)."""
        return {page.name: page for page in self.pages}[name]

    def show_page(self, name: str) -> None:
        """Bring page ``name`` to the front (it draws if the studio owns the viewport)."""
        self.tabs.setCurrentWidget(self.page(name))

    def draw(self) -> None:
        """The page in front draws."""
        if self._current.active:
            self._current.draw()
        else:
            self._current.set_active(True)

    def deactivated(self) -> None:
        """The viewport went to another panel: so it did for the page in front."""
        self._current.set_active(False)

    def is_busy(self) -> bool:
        """Whether any page has work under way."""
        return any(page.is_busy() for page in self.pages)

    def prepare_screenshot(self) -> None:
        """The page in front prepares its picture."""
        self._current.prepare_screenshot()

    def shutdown(self) -> None:
        """Every page stops its threads."""
        for page in self.pages:
            page.shutdown()

    def _on_tab(self, position: int) -> None:
        page = self.tabs.widget(position)
        if not isinstance(page, Panel) or page is self._current:
            return
        self._current.set_active(False)
        self._current = page
        if self.active:
            page.set_active(True)
        else:
            self.view_requested.emit()  # the user turned to a page: its content belongs in the viewport

    def _page_wants_view(self, page: Panel) -> None:
        if page is not self._current:
            return  # a page behind the others (its late results) draws when the user turns to it
        if self.active:
            page.draw()
        else:
            self.view_requested.emit()

    def _edit_shape(self, shape: Any) -> None:
        self.show_page("edit")
        self.edit.edit(shape)
