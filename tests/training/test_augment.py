"""Augmented batches, the held-out validation part, the jointly trained latent and class weights, in the real loop."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training.test_loop import tiny
from vaeviewer.errors import SettingError
from vaeviewer.model import load_checkpoint
from vaeviewer.training import RunStarted, StepEnded, TaskControl, TrainSettings, settings_for_resume, train
from vaeviewer.training.augment import augment_batch
from vaeviewer.training.settings import parse_augmentations
from vaeviewer.training.subsets import balanced_class_weights, holdout_indices


def clouds(batch: int = 6, count: int = 256, seed: int = 0) -> torch.Tensor:
    points = torch.randn((batch, count, 3), generator=torch.Generator().manual_seed(seed))
    return points / points.norm(dim=2).amax(dim=1)[:, None, None]


def test_the_list_is_parsed_in_a_fixed_order_and_mistakes_name_the_option() -> None:
    assert parse_augmentations("dropout, scale") == ("scale", "dropout")
    assert parse_augmentations("none") == parse_augmentations("") == ()
    with pytest.raises(SettingError, match=r"--augment: unknown augmentation spin"):
        TrainSettings(augment="scale,spin")
    with pytest.raises(SettingError, match=r"--augment: rotate-y and rotate-z together"):
        TrainSettings(augment="rotate-y,rotate-z")
    with pytest.raises(SettingError, match=r"--holdout must be at most 0.5"):
        TrainSettings(holdout=0.9)


@pytest.mark.parametrize(("name", "axis"), [("rotate-y", 1), ("rotate-z", 2)])
def test_a_rotation_turns_about_the_up_axis_and_keeps_the_shape(name: str, axis: int) -> None:
    torch.manual_seed(0)
    original = clouds()
    seen, target = augment_batch(original, (name,))
    assert seen is target  # nothing corrupts the input alone
    assert torch.allclose(target[..., axis], original[..., axis])
    assert torch.allclose(target.norm(dim=2), original.norm(dim=2), atol=1e-6)
    flat = [a for a in range(3) if a != axis]
    angles = torch.atan2(target[:, 0, flat[1]], target[:, 0, flat[0]]) - torch.atan2(original[:, 0, flat[1]],
                                                                                       original[:, 0, flat[0]])
    assert len({round(float(a) % (2 * math.pi), 3) for a in angles}) == len(original)  # each shape its own angle


def test_scaling_stretches_each_axis_by_its_own_factor_in_the_papers_range() -> None:
    torch.manual_seed(1)
    original = clouds()
    _, target = augment_batch(original, ("scale",))
    factors = target / original
    per_shape = factors[:, 0, :]
    assert torch.allclose(factors, per_shape[:, None, :].expand_as(factors), rtol=1e-5)
    assert (per_shape >= 2 / 3 - 1e-6).all() and (per_shape <= 3 / 2 + 1e-6).all()
    assert per_shape.std() > 0.05


def test_jitter_and_dropout_corrupt_only_what_the_encoder_sees() -> None:
    torch.manual_seed(2)
    original = clouds()
    seen, target = augment_batch(original, ("jitter",))
    assert target is original
    noise = seen - original
    assert 0 < noise.abs().max() <= 0.05 + 1e-7 and abs(float(noise.std()) - 0.01) < 0.002

    seen, target = augment_batch(original, ("dropout",))
    assert target is original
    kept = (seen == original).all(dim=2)
    stand_in = (seen == original[:, :1, :]).all(dim=2)
    assert (kept | stand_in).all()  # every point is itself or the first point
    dropped = (~kept).float().mean(dim=1)
    assert (dropped <= 0.875).all() and dropped.max() > 0.1


def test_geometry_then_corruption_the_target_is_the_transformed_clean_cloud() -> None:
    torch.manual_seed(3)
    original = clouds()
    seen, target = augment_batch(original, ("rotate-z", "scale", "jitter"))
    assert not torch.equal(target, original)
    assert (seen - target).abs().max() <= 0.05 + 1e-6


def test_the_holdout_is_stratified_disjoint_and_fixed_by_the_seed() -> None:
    labels = np.repeat(np.arange(4), [50, 20, 3, 1])
    training, held = holdout_indices(labels, 0.1, seed=7)
    assert np.intersect1d(training, held).size == 0
    assert np.array_equal(np.sort(np.concatenate([training, held])), np.arange(len(labels)))
    assert [int((labels[held] == c).sum()) for c in range(4)] == [5, 2, 1, 0]  # a class of one shape stays training
    again, held_again = holdout_indices(labels, 0.1, seed=7)
    assert np.array_equal(held, held_again) and np.array_equal(training, again)
    assert not np.array_equal(held, holdout_indices(labels, 0.1, seed=8)[1])


def test_a_run_validates_on_its_held_out_part_of_the_training_split(tmp_path: Path) -> None:
    events = list(train(tiny(tmp_path / "run", max_shapes=0, holdout=0.2, epochs=1, batch_size=32)))
    start = events[0]
    assert isinstance(start, RunStarted) and events[-1].status == "completed"
    # The built-in training split: 1,000 shapes of 10 classes, 20 % of each held out.
    assert (start.train_shapes, start.val_shapes) == (800, 200)
    limited = list(train(tiny(tmp_path / "limited", holdout=0.2, epochs=1)))[0]
    assert (limited.train_shapes, limited.val_shapes) == (24, 200)  # max_shapes chooses among what trains


def encoder_after(run: Path, **changes: object) -> dict[str, torch.Tensor]:
    events = list(train(tiny(run, epochs=1, **changes)))
    assert events[-1].status == "completed"
    state = load_checkpoint(run / "last.pt").model_state
    return {k: v for k, v in state.items() if k.startswith("encoder.")}


def test_only_a_joint_latent_is_shaped_by_the_classifier(tmp_path: Path) -> None:
    def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
        return all(torch.equal(a[k], b[k]) for k in a)

    unsupervised = [encoder_after(tmp_path / f"u{w}", classifier_weight=w) for w in (1.0, 5.0)]
    joint = [encoder_after(tmp_path / f"j{w}", classifier_weight=w, latent_training="joint") for w in (1.0, 5.0)]
    assert same(*unsupervised)  # the classifier's loss never reaches the encoder
    assert not same(*joint)
    assert not same(unsupervised[0], joint[0])


def test_an_augmented_run_resumes_exactly_as_it_would_have_gone_on(tmp_path: Path) -> None:
    changes = dict(augment="rotate-y,scale,jitter,dropout", holdout=0.25, max_shapes=0, batch_size=64, epochs=2)
    whole = [e for e in train(tiny(tmp_path / "whole", **changes)) if isinstance(e, StepEnded)]
    control = TaskControl()
    for event in train(tiny(tmp_path / "parts", **changes), control):
        if isinstance(event, StepEnded) and event.global_step == len(whole) // 2 + 1:
            control.stop()
    rest = [e for e in train(settings_for_resume(tmp_path / "parts", {}), resume=True) if isinstance(e, StepEnded)]
    assert [e.loss for e in rest] == [e.loss for e in whole[-len(rest):]]
    a = load_checkpoint(tmp_path / "whole" / "last.pt").model_state
    b = load_checkpoint(tmp_path / "parts" / "last.pt").model_state
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert settings_for_resume(tmp_path / "parts", {}).augment == changes["augment"]


def test_balanced_class_weights_make_every_class_count_alike() -> None:
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1 + [-1] * 4)  # and class 3 never drawn
    weights = balanced_class_weights(labels, 4)
    np.testing.assert_allclose(weights, [10 / 18, 10 / 9, 10 / 3, 0.0])
    # Weighted by them, each class's shapes together weigh the same: a third of the labelled ones each.
    np.testing.assert_allclose(np.bincount(labels[labels >= 0], minlength=4) * weights, [10 / 3] * 3 + [0.0])
    np.testing.assert_allclose(balanced_class_weights(np.repeat(np.arange(3), 5), 3), np.ones(3))


def test_balanced_class_weights_change_a_joint_run_only_where_classes_are_uneven(tmp_path: Path) -> None:
    """20 built-in shapes are two of each class: the weights are all 1 and the run is the unweighted one, bit for
    bit; 23 give three classes a third shape, and the weighted loss trains another encoder."""
    def run(name: str, shapes: int, weights: str) -> dict[str, torch.Tensor]:
        return encoder_after(tmp_path / name, max_shapes=shapes, latent_training="joint", class_weights=weights)

    even = [run(f"even-{w}", 20, w) for w in ("none", "balanced")]
    uneven = [run(f"uneven-{w}", 23, w) for w in ("none", "balanced")]
    assert all(torch.equal(even[0][k], even[1][k]) for k in even[0])
    assert not all(torch.equal(uneven[0][k], uneven[1][k]) for k in uneven[0])
    assert load_checkpoint(tmp_path / "uneven-balanced" / "last.pt").run_settings["class_weights"] == "balanced"
