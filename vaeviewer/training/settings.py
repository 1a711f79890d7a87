"""The settings of a training run: one table that the command line, the training loop and the window's form share.

Each field of :class:`TrainSettings` carries its :class:`Setting`: the option
that sets it on the command line, its label and help in the window, its bounds
or choices, and whether a resumed run may change it. ``vaeviewer train``
builds its options from :data:`SETTINGS`, :class:`TrainSettings` checks every
value against it (a :class:`~vaeviewer.errors.SettingError` names the option
on the command line and the label in the window), and the Training panel
builds its form from it. Recorded in ``run.json`` and in every checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from vaeviewer.errors import SettingError

__all__ = ["AUGMENTATIONS", "Setting", "SETTINGS", "TrainSettings", "parse_augmentations", "setting"]


@dataclass(frozen=True)
class Setting:
    """What the front ends need to know about one training setting.

    Attributes
    ----------
    name : str
        The field of :class:`TrainSettings`.
    kind : type
        ``int``, ``float`` or ``str``.
    default : object
        The field's default.
    flag : str
        The command-line option (``--points``); empty for a setting only the window sets.
    label : str
        The form's label (``Points``).
    help : str
        One line: the option's help and the form's tooltip.
    minimum, maximum : float or None
        Inclusive bounds of a number.
    positive : bool
        The number must be above zero (``minimum`` then is None).
    choices : tuple of str
        The values a text setting may take; empty for any.
    fixed_on_resume : bool
        A resumed run keeps the value it started with (it changes the model or the data it sees).
    minimum_reason : str
        Why the minimum is what it is (batch norm needs two shapes), said with a refusal.
    zero_means : str
        What 0 stands for (``all``, ``epoch ends``): the form shows it in place of 0.
    suffix : str
        The form's unit after the number (`` steps``).
    form_default : object or None
        The form's proposal where it differs from ``default`` (previews a window wants to see).
    suggestions : tuple
        Usual values the form lists for a number that takes any (1024 and 2048 points).
    """

    name: str
    kind: type
    default: Any
    flag: str
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    choices: tuple[str, ...] = ()
    fixed_on_resume: bool = False
    minimum_reason: str = ""
    zero_means: str = ""
    suffix: str = ""
    form_default: Any = None
    suggestions: tuple[Any, ...] = ()

    def error(self, template: str, window_template: str | None = None) -> SettingError:
        """A :class:`SettingError` about this setting; ``template`` has ``{setting}`` where its name goes."""
        return SettingError(self.flag or self.label, self.label, template, window_template)

    def check(self, value: Any) -> None:
        """Raise a :class:`SettingError` when ``value`` is out of bounds or not one of the choices."""
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (self.kind is int and value != int(value)):
                raise self.error(f"{{setting}} must be a {'whole number' if self.kind is int else 'number'}, got {value!r}")
            if not math.isfinite(value):
                raise self.error(f"{{setting}} must be a finite number, got {value!r}")
            if self.positive and value <= 0:
                raise self.error("{setting} must be positive")
            if self.minimum is not None and value < self.minimum:
                rule = "zero or positive" if self.minimum == 0 else f"at least {self.minimum:g}"
                why = f" ({self.minimum_reason})" if self.minimum_reason else ""
                raise self.error(f"{{setting}} must be {rule}{why}")
            if self.maximum is not None and value > self.maximum:
                raise self.error(f"{{setting}} must be at most {self.maximum:g}")
        elif self.choices and value not in self.choices:
            raise self.error(f"{{setting}} must be {' or '.join(self.choices)}, got {value!r}")

    @property
    def default_text(self) -> str:
        """The default as the command line's help shows it."""
        if self.zero_means and self.default == 0:
            return self.zero_means
        return f"{self.default:g}" if self.kind is float else str(self.default)


def setting(default: Any, flag: str, label: str, help: str, **rules: Any) -> Any:
    """A field of :class:`TrainSettings` with its :class:`Setting` (name and kind filled in from the field)."""
    return field(default=default, metadata={"setting": dict(flag=flag, label=label, help=help, **rules)})


#: The augmentations of ``--augment`` (:mod:`vaeviewer.training.augment`), in the order they are applied.
AUGMENTATIONS: tuple[str, ...] = ("rotate-y", "rotate-z", "scale", "jitter", "dropout")


def parse_augmentations(text: str) -> tuple[str, ...]:
    """The augmentations a comma-separated list names, in :data:`AUGMENTATIONS` order.

    ``""`` and ``"none"`` name none. Raises ``ValueError`` (its message says what was wrong) for an
    unknown name, or for both rotations at once.
    """
    names = {part.strip() for part in text.split(",") if part.strip()} - {"none"}
    unknown = sorted(names - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)} (known: none, {', '.join(AUGMENTATIONS)})")
    if {"rotate-y", "rotate-z"} <= names:
        raise ValueError("rotate-y and rotate-z together: rotate about the data set's one up axis")
    return tuple(name for name in AUGMENTATIONS if name in names)


def _is_device(value: str) -> bool:
    return value in ("auto", "cpu") or value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit())


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides what a training run does; each field's help is in :data:`SETTINGS`.

    The loss is ``chamfer + beta * KL + classifier_weight * NLL``; the KL term
    pulls towards a Gaussian prior of standard deviation ``prior_std`` (0.2 in
    the original work). ``lr_schedule`` ``cosine`` lowers the rate along a half
    cosine from ``lr`` at the first epoch to ``lr / 20`` at the last: a function
    of the epoch alone, so a resumed run follows the same schedule. The same
    ``seed`` gives the same run (weights, shuffling, sampling, dropout).
    """

    data: str = setting("builtin", "--data", "Data", "data set path or 'builtin'", fixed_on_resume=True)
    out_dir: str = setting("runs/vae", "--out", "Output folder",
                           "run folder: last.pt, best.pt, history.csv, run.json")
    epochs: int = setting(100, "--epochs", "Epochs", "epochs in total; a resumed run continues up to this many",
                          minimum=1, maximum=1_000_000)
    batch_size: int = setting(32, "--batch-size", "Batch size", "shapes per step, over all processes under torchrun",
                              minimum=2, maximum=1_000_000, fixed_on_resume=True,
                              minimum_reason="batch norm needs two shapes")
    lr: float = setting(5e-4, "--lr", "Learning rate", "Adam learning rate", positive=True)
    lr_schedule: str = setting("constant", "--lr-schedule", "LR schedule",
                               "learning rate over the epochs; cosine: down to a twentieth of it at the last epoch",
                               choices=("constant", "cosine"))
    beta: float = setting(1e-5, "--beta", "β (KL weight)", "weight of the KL term: loss = Chamfer + β·KL + classifier NLL",
                          minimum=0)
    prior_std: float = setting(0.2, "--prior-std", "Prior σ", "standard deviation of the Gaussian prior", positive=True,
                               fixed_on_resume=True)
    num_points: int = setting(2048, "--points", "Points", "points per cloud, in and out of the model", minimum=16,
                              maximum=1_000_000, fixed_on_resume=True, suggestions=(1024, 2048))
    latent_dim: int = setting(128, "--latent-dim", "Latent size", "size of the latent code", minimum=1, maximum=65_536,
                              fixed_on_resume=True)
    classifier_weight: float = setting(1.0, "--classifier-weight", "Classifier weight",
                                       "weight of the latent classifier's loss; 0 trains no classifier", minimum=0,
                                       fixed_on_resume=True)
    latent_training: str = setting("unsupervised", "--latent-training", "Latent training",
                                   "unsupervised: the classifier reads a detached latent mean and its loss never reaches "
                                   "the encoder; joint: its loss shapes the latent too", choices=("unsupervised", "joint"),
                                   fixed_on_resume=True)
    class_weights: str = setting("none", "--class-weights", "Class weights",
                                 "the classifier's loss per class: none, every shape alike; balanced, each class as if "
                                 "drawn as often as the others (weight n / (classes x n_class))",
                                 choices=("none", "balanced"), fixed_on_resume=True)
    augment: str = setting("none", "--augment", "Augmentation",
                           "comma-separated: rotate-y or rotate-z (about the up axis), scale, jitter, dropout; or none",
                           fixed_on_resume=True, suggestions=("none", "scale,jitter,dropout", "rotate-z,scale,jitter"))
    init: str = setting("", "--init", "Start from",
                        "a checkpoint whose weights the run starts from (same points, latent size, classes and σ); "
                        "empty: fresh weights", fixed_on_resume=True)
    train_parts: str = setting("all", "--train-parts", "Parts trained",
                               "all; or decoder: the encoder and the classifier keep the --init checkpoint's weights and "
                               "only the decoder learns, a second stage that sharpens the reconstructions without "
                               "moving the latent", choices=("all", "decoder"), fixed_on_resume=True)
    holdout: float = setting(0.0, "--holdout", "Held-out validation",
                             "fraction of the training split held out to validate on, stratified by class and fixed by "
                             "the seed; replaces --val-split", minimum=0, maximum=0.5, fixed_on_resume=True,
                             zero_means="none")
    seed: int = setting(0, "--seed", "Seed", "seeds weights, shuffling, sampling and dropout", minimum=0,
                        maximum=2**31 - 1, fixed_on_resume=True)
    device: str = setting("auto", "--device", "Device", "auto (CUDA when available), cpu, cuda or cuda:K")
    train_split: str = setting("train", "--train-split", "Training split", "split to train on", fixed_on_resume=True)
    val_split: str = setting("test", "--val-split", "Validation", "split to validate on; '' for none")
    max_shapes: int = setting(0, "--max-shapes", "Training shapes", "train on a class-balanced subset of this many shapes",
                              minimum=0, maximum=100_000_000, fixed_on_resume=True, zero_means="all")
    save_every_steps: int = setting(0, "--save-every-steps", "Save interval", "also save last.pt every this many steps",
                                    minimum=0, maximum=100_000_000, zero_means="epoch ends", suffix=" steps")
    preview_every_steps: int = setting(0, "", "Preview interval", "how often the reconstruction of a fixed shape is shown",
                                       minimum=0, maximum=100_000_000, zero_means="epoch ends", suffix=" steps",
                                       form_default=25)

    def __post_init__(self) -> None:
        for entry in SETTINGS:
            entry.check(getattr(self, entry.name))
        try:
            parse_augmentations(self.augment)
        except ValueError as error:
            raise SETTING["augment"].error(f"{{setting}}: {error}") from None
        if self.train_parts != "all" and not self.init:
            raise SETTING["train_parts"].error(f"{{setting}} {self.train_parts} needs --init: the checkpoint whose "
                                               "encoder is kept", f"{{setting}}: {self.train_parts} needs Start from")
        if not _is_device(self.device):
            raise SETTING["device"].error(f"{{setting}} must be auto, cpu or cuda[:k], got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainSettings:
        """Rebuild settings saved by :meth:`to_dict`, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_changes(self, **changes: Any) -> TrainSettings:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (counted from 0) under :attr:`lr_schedule`."""
        if self.lr_schedule == "constant" or self.epochs <= 1:
            return self.lr
        progress = min(epoch, self.epochs - 1) / (self.epochs - 1)
        floor = self.lr / 20
        return floor + 0.5 * (self.lr - floor) * (1 + math.cos(math.pi * progress))


_KINDS = {"int": int, "float": float, "str": str}

#: Every training setting, in the order the command line's help and the form list them.
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(name=f.name, kind=_KINDS[str(f.type)], default=f.default, **f.metadata["setting"]) for f in fields(TrainSettings)
)
#: The settings by name.
SETTING: dict[str, Setting] = {entry.name: entry for entry in SETTINGS}
