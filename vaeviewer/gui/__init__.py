"""The desktop window: the only package that imports Qt (PySide6, pyvistaqt, pyqtgraph).

Built on :mod:`vaeviewer.render` and the shared :mod:`vaeviewer.workflows`;
:func:`vaeviewer.gui.app.run_app` opens it.
"""
