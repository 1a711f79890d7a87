"""The verbs that score models: ``evaluate`` (one model on a split) and ``compare`` (two on the same shapes)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

__all__ = ["add_compare_command", "add_evaluate_command"]


def add_evaluate_command(sub: argparse._SubParsersAction,
                         model_and_data: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``evaluate``; ``model_and_data`` adds the --checkpoint, --data and --split options every verb shares."""
    p = sub.add_parser(
        "evaluate", help="score a model on a split",
        description="Score a model on every shape of a split: Chamfer distance of the reconstructions, KL, the latent "
        "classifier's accuracy; the accuracy of a linear SVM fit on the training split's latent means (when the data "
        "set has a labelled train split besides the evaluated one); and MMD-CD, COV-CD and 1-NNA-CD of prior "
        "samples against a class-balanced subset of the split (see README, Quality). --split holdout scores a run's "
        "checkpoint on the part of the train split its run held out (train --holdout), the SVM fit on the rest: the "
        "test split stays untouched while a recipe is chosen.",
    )
    model_and_data(p)
    p.add_argument("--gen-shapes", type=int, default=100, metavar="N",
                   help="prior samples and reference shapes for the generation scores; 0 skips them (default: 100)")
    p.add_argument("--sampler", choices=("prior", "gmm"), default="prior",
                   help="generated codes from the prior N(0, sigma^2 I), or from a Gaussian mixture fit to the train "
                   "split's latent means (default: prior)")
    p.add_argument("--no-svm", action="store_true", help="skip the linear-SVM accuracy (it encodes the train split)")
    p.add_argument("--pooled", action="store_true", help="also the linear SVM on the encoder's max-pooled 1024-d "
                   "feature, which most published figures use (its search for C runs on every core; minutes on ModelNet10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the prior samples and reference shapes (default: 0)")
    p.add_argument("--limit", type=int, default=0, metavar="K",
                   help="score K shapes drawn evenly across classes, as compare --limit K (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:k] (default: auto)")
    p.set_defaults(handler=_cmd_evaluate)


def add_compare_command(sub: argparse._SubParsersAction) -> None:
    """Add ``compare`` to the command line's sub-commands."""
    p = sub.add_parser(
        "compare", help="two models on the same shapes: Chamfer distance and class per shape",
        description="Score two checkpoints on the same shapes of a split: each one's Chamfer distance and its "
        "classifier's answer per shape, B minus A, and a summary (mean and median Chamfer, classifier accuracy, "
        "linear-SVM accuracy on the latent means when the data set has a labelled train split). The per-shape "
        "means are what evaluate reports for each model on the same shapes (evaluate --limit K takes the same K). "
        "The models may differ in latent size, point count and classes. Scores are cached per checkpoint, data "
        "set and split.",
    )
    p.add_argument("checkpoints", nargs=2, metavar="CKPT", help="models A and B: checkpoint files or bundled models "
                   "(demo, modelnet10)")
    p.add_argument("--data", default="builtin", help="data set path or 'builtin' (default: builtin)")
    p.add_argument("--split", help="split to score (default: test when the data set has it)")
    p.add_argument("--limit", type=int, default=0, metavar="K",
                   help="score K shapes drawn evenly across classes (default: all)")
    p.add_argument("--no-svm", action="store_true", help="skip the linear-SVM accuracy (it encodes the train split)")
    p.add_argument("--csv", metavar="OUT.csv", help="write the table: a row per shape, then the summary")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda[:k] (default: cpu)")
    p.set_defaults(handler=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vaeviewer.cli import _print_json, _split_of
    from vaeviewer.data import open_dataset
    from vaeviewer.workflows.compare import ComparedModel, CompareProgress, chosen_shapes, compare_models
    from vaeviewer.workflows.models import choose_checkpoint, open_model
    from vaeviewer.workflows.studio import data_location

    with open_dataset(args.data) as dataset:
        split = _split_of(dataset, args.split)
        chosen_shapes(split, args.limit)  # a bad --limit is refused before any model loads
        models = []
        for name in args.checkpoints:
            model, checkpoint = open_model(name, args.device, dataset.class_names)
            models.append(ComparedModel(name, model, tuple(checkpoint.class_names),
                                        str(choose_checkpoint(name, dataset.class_names))))
        train = None
        if not args.no_svm and "train" in dataset.split_names and split.name != "train":
            train = dataset.split("train")
        comparison = None
        bar = None
        try:
            for item in compare_models(models, split, train_split=train, limit=args.limit,
                                       data=data_location(args.data)):
                if isinstance(item, CompareProgress):
                    if bar is None or item.done == 0:
                        if bar is not None:
                            bar.close()
                        bar = tqdm(total=item.total, desc=f"model {'AB'[item.model]}", unit="shape", file=sys.stderr,
                                   disable=not sys.stderr.isatty())
                    bar.n = item.done
                    bar.refresh()
                else:
                    comparison = item
        finally:
            if bar is not None:
                bar.close()
    assert comparison is not None
    if args.csv:
        comparison.write_csv(args.csv)
    if args.json:
        _print_json(comparison.to_json())
        return 0
    _print_table(comparison)
    return 0


def _print_table(comparison) -> None:
    a, b = comparison.models
    summary = comparison.summary

    def percent(value: float | None) -> str:
        return f"{100 * value:.1f} %" if value is not None else "n/a"

    print(f"{summary['shapes']} shapes ({comparison.split}); A = {a.name}, B = {b.name}; "
          "sorted by B - A (where B reconstructs better first)")
    print(f"{'index':>6}  {'name':<24} {'class':<12} {'Chamfer A':>10} {'Chamfer B':>10} {'B - A':>10}  class by A / B")
    rows = comparison.rows()
    for k in comparison.difference.argsort(kind="stable"):
        row = rows[k]
        print(f"{row['index']:>6}  {row['name'][:24]:<24} {row['class'][:12]:<12} {row['chamfer'][0]:>10.5f} "
              f"{row['chamfer'][1]:>10.5f} {comparison.difference[k]:>+10.5f}  "
              f"{row['predicted'][0] or a.classes_note} / {row['predicted'][1] or b.classes_note}")
    for label, key in (("Chamfer mean", "chamfer_mean"), ("Chamfer median", "chamfer_median")):
        values = summary[key]
        print(f"{label}: A {values[0]:.5f}, B {values[1]:.5f}")
    print(f"classifier accuracy: A {percent(summary['classifier_accuracy'][0])}, "
          f"B {percent(summary['classifier_accuracy'][1])}; linear SVM: A {percent(summary['svm_accuracy'][0])}, "
          f"B {percent(summary['svm_accuracy'][1])}; B better on {summary['b_better']} of {summary['shapes']} shapes")


def _check_run_data(data: str, run_settings: dict) -> None:
    """Refuse ``--split holdout`` on another data set than the run's: its indices would name other shapes."""
    from pathlib import Path

    from vaeviewer.errors import OptionError
    from vaeviewer.workflows.studio import data_location

    trained_on = str(run_settings.get("data") or "")
    if not trained_on or Path(data_location(trained_on) or "").resolve() == Path(data_location(data) or "").resolve():
        return
    raise OptionError(f"--split holdout: the run trained on {trained_on}, not {data}; pass --data {trained_on}")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from vaeviewer.cli import _print_json, _split_of
    from vaeviewer.data import open_dataset
    from vaeviewer.errors import OptionError
    from vaeviewer.workflows.evaluate import HOLDOUT_SPLIT, evaluate_split, held_out_splits
    from vaeviewer.workflows.models import latent_training, open_model

    if args.gen_shapes < 0:
        raise OptionError(f"--gen-shapes {args.gen_shapes}: must be 0 or more")
    with open_dataset(args.data) as dataset:
        model, checkpoint = open_model(args.checkpoint, args.device, dataset.class_names)
        train_split = None
        wants_train = not args.no_svm or (args.sampler == "gmm" and args.gen_shapes > 0)
        if args.split == HOLDOUT_SPLIT:
            _check_run_data(args.data, checkpoint.run_settings)
            fit_split, split = held_out_splits(dataset, checkpoint.run_settings, model.config.num_points,
                                               str(args.checkpoint))
            train_split = fit_split if wants_train else None
        else:
            split = _split_of(dataset, args.split)
            if wants_train and "train" in dataset.split_names and split.name != "train":
                train_split = dataset.split("train")
        figures = evaluate_split(model, split, checkpoint.class_names, train_split=train_split,
                                 generation_shapes=args.gen_shapes, sampler=args.sampler, svm=not args.no_svm,
                                 seed=args.seed, limit=args.limit, pooled=args.pooled, jobs=-1)
        figures["latent_training"] = latent_training(checkpoint)
    if args.json:
        _print_json(figures)
    else:
        def percent(value: float | None) -> str:
            return f"{100 * value:.1f} %" if value is not None else "n/a"

        line = (
            f"{figures['shapes']} shapes ({figures['split']}): Chamfer mean {figures['chamfer_mean']:.5f}, "
            f"median {figures['chamfer_median']:.5f}; classifier accuracy {percent(figures['classifier_accuracy'])}"
            f" (class mean {percent(figures['classifier_class_accuracy'])})"
            f"; latent {figures['latent_training']}"
        )
        if "svm_accuracy" in figures:
            line += (f"; linear SVM accuracy {percent(figures['svm_accuracy'])} (class mean "
                     f"{percent(figures['svm_class_accuracy'])}) on the latent means")
        if "svm_pooled_accuracy" in figures:
            line += f", {percent(figures['svm_pooled_accuracy'])} on the pooled 1024-d feature"
        line += f"; KL {figures['kl_mean']:.1f} nats, {figures['active_dimensions']} active dimensions"
        if "mmd_cd" in figures:
            line += (f"; {figures['generation_shapes']} samples ({figures['sampler']}): MMD-CD {figures['mmd_cd']:.5f}, "
                     f"COV-CD {percent(figures['cov_cd'])}, 1-NNA-CD {percent(figures['nna_cd'])}")
        print(line)
        for key, who in (("classifier_confusions", "classifier"), ("svm_confusions", "linear SVM")):
            if figures.get(key):
                pairs = ", ".join(f"{a} / {b} {entry['errors']}" for entry in figures[key] for a, b in [entry["classes"]])
                print(f"classes the {who} takes for each other most (shapes): {pairs}")
    return 0
