"""The Training panel's form: one row per training setting, built from the settings' table.

The rows, their labels, tooltips, bounds and what 0 means come from
:data:`vaeviewer.training.settings.SETTINGS`, the same table ``vaeviewer train``
builds its options from and :class:`~vaeviewer.training.TrainSettings` checks
against; so the form cannot drift from the command line. A whole number is a
spin box within its bounds, a real number a text field (learning rates are
typed as ``5e-4``), a setting with choices a list; the splits and the devices
are lists the panel fills from the data set and from torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from vaeviewer.training.settings import SETTING, SETTINGS, Setting, TrainSettings

__all__ = ["SettingsForm", "NO_VALIDATION", "default_run_folder"]

#: The validation list's entry for "no validation" (an empty ``val_split``).
NO_VALIDATION = "none"
#: Settings with rows of their own in the panel (the data set is the window's; the folder has a Browse button).
_OWN_ROWS = ("data", "out_dir")
_INT_LIMIT = 2**31 - 1  # a spin box holds a C int


def default_run_folder() -> Path:
    """A new folder name for a run: ``<user data dir>/runs/<date-time>`` (not created)."""
    import platformdirs

    root = Path(platformdirs.user_data_dir("vaeviewer")) / "runs"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, k = root / stamp, 2
    while folder.exists():
        folder, k = root / f"{stamp}-{k}", k + 1
    return folder


class SettingsForm(QWidget):
    """The form of a run's settings (all but the data set and the output folder).

    :attr:`rows` is its layout, so that the panel can put its own rows (data
    set, output folder, resume) in the same columns.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = QFormLayout(self)
        self._inputs: dict[str, QWidget] = {}
        for entry in SETTINGS:
            if entry.name in _OWN_ROWS:
                continue
            widget = self._make_input(entry)
            widget.setToolTip(entry.help[:1].upper() + entry.help[1:])
            self._inputs[entry.name] = widget
            self.rows.addRow(entry.label, widget)
        self._show(TrainSettings(), proposals=True)

    # ---- public -----------------------------------------------------------------------------

    def input(self, name: str) -> QWidget:
        """The input of setting ``name`` (a spin box, text field or list)."""
        return self._inputs[name]

    def values(self) -> dict[str, Any]:
        """The form as :class:`TrainSettings` fields, checked against the table.

        Raises
        ------
        SettingError
            For text that is not a number or a value out of bounds, worded with the form's labels.
        """
        values = {name: self._read(SETTING[name], widget) for name, widget in self._inputs.items()}
        for name, value in values.items():
            SETTING[name].check(value)
        return values

    def set_values(self, settings: TrainSettings) -> None:
        """Show ``settings`` (all but the data set and the output folder)."""
        self._show(settings, proposals=False)

    def set_splits(self, names: list[str]) -> None:
        """Offer the data set's splits: any to train on; for validation the others, or none."""
        training = self._inputs["train_split"]
        validation = self._inputs["val_split"]
        assert isinstance(training, QComboBox) and isinstance(validation, QComboBox)
        current_train, current_val = training.currentText(), validation.currentText()
        training.clear()
        training.addItems(names or [SETTING["train_split"].default])
        training.setCurrentText(current_train if current_train in names else SETTING["train_split"].default)
        train = training.currentText()
        choices = [n for n in names if n != train] if len(names) > 1 else []
        validation.clear()
        validation.addItems([*choices, NO_VALIDATION])
        default = SETTING["val_split"].default
        preferred = current_val if current_val in choices else (default if default in choices else validation.itemText(0))
        validation.setCurrentText(preferred)

    def add_devices(self, names: list[str]) -> None:
        """Offer more devices (the GPUs, once torch is loaded)."""
        devices = self._inputs["device"]
        assert isinstance(devices, QComboBox)
        devices.addItems([name for name in names if devices.findText(name) < 0])

    def list_gpus(self) -> None:
        """Offer the CUDA devices; called once a model is open, so that listing them never loads torch itself."""
        import torch

        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            self.add_devices(["cuda", *([f"cuda:{k}" for k in range(count)] if count > 1 else [])])

    def set_resuming(self, resuming: bool) -> None:
        """While resuming, the settings a resumed run keeps cannot be edited."""
        for name, widget in self._inputs.items():
            widget.setEnabled(not (resuming and SETTING[name].fixed_on_resume))

    @staticmethod
    def changeable_on_resume(values: dict[str, Any]) -> dict[str, Any]:
        """The part of :meth:`values` a resumed run takes from the form."""
        return {name: value for name, value in values.items() if not SETTING[name].fixed_on_resume}

    # ---- internals --------------------------------------------------------------------------

    def _make_input(self, entry: Setting) -> QWidget:
        if entry.name in ("train_split", "val_split"):
            return QComboBox()
        if entry.name == "device":
            box = QComboBox()
            box.addItems(["auto", "cpu"])  # the GPUs join once torch is loaded: the window opens without it
            return box
        if entry.choices:
            box = QComboBox()
            box.addItems(list(entry.choices))
            return box
        if entry.suggestions:
            box = QComboBox()
            box.setEditable(True)
            box.addItems([str(value) for value in entry.suggestions])
            return box
        if entry.kind is int:
            spin = QSpinBox()
            spin.setRange(int(entry.minimum or 0), int(min(entry.maximum or _INT_LIMIT, _INT_LIMIT)))
            spin.setSpecialValueText(entry.zero_means)
            spin.setSuffix(entry.suffix)
            spin.setKeyboardTracking(False)
            return spin
        return QLineEdit()

    def _show(self, settings: TrainSettings, *, proposals: bool) -> None:
        for name, widget in self._inputs.items():
            entry = SETTING[name]
            value = getattr(settings, name)
            if proposals and entry.form_default is not None:
                value = entry.form_default
            if isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QLineEdit):
                widget.setText(f"{value:g}" if entry.kind is float else str(value))
            elif isinstance(widget, QComboBox):
                text = NO_VALIDATION if name == "val_split" and not value else str(value)
                if widget.findText(text) < 0 and (widget.isEditable() or name in ("train_split", "val_split")):
                    widget.addItem(text)
                if widget.findText(text) >= 0 or widget.isEditable():
                    widget.setCurrentText(text)

    @staticmethod
    def _read(entry: Setting, widget: QWidget) -> Any:
        if isinstance(widget, QSpinBox):
            return widget.value()
        text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()  # type: ignore[attr-defined]
        text = text.strip()
        if entry.name == "val_split":
            return "" if text == NO_VALIDATION else text
        if entry.kind is str:
            return text
        try:
            return entry.kind(text)
        except ValueError:
            noun = "a whole number" if entry.kind is int else "a number"
            raise entry.error(f"{{setting}}: {text!r} is not {noun}") from None
