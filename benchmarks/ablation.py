"""The training recipe's ablation: each change alone, on a fixed budget, scored on a held-out part of the train split.

``python -m benchmarks.ablation --data PATH --root RUNS`` trains one run per row of
:data:`ROWS` with ``vaeviewer train`` (the row's options on top of :data:`BASE`) in
``RUNS/<row>``, scores each with ``vaeviewer evaluate --split holdout`` (the 10 % of
the train split every run held out, the SVM fit on the other 90 %: the test split is
never read) and prints the table as Markdown. A run already finished is not trained
again, one stopped part-way is resumed, and a row's scores are kept in
``RUNS/<row>/holdout.json``: the command can be stopped and run again across
sessions. ``--epochs`` is the budget of every row; the ``epochs`` row trains the
base run on for twice as long (a copy of it resumed, so the first half is shared).

Training takes most of the time: on the 2-core CPU of BENCHMARKS.md an epoch of
ModelNet10 at 1,024 points is about 25 s, a score about 1 min.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

#: Every row's options unless the row changes them: the product's training defaults at 1,024 points,
#: validation on 10 % of the train split.
BASE = {
    "--points": "1024", "--batch-size": "32", "--lr": "5e-4", "--lr-schedule": "constant", "--beta": "1e-5",
    "--prior-std": "0.2", "--latent-dim": "128", "--latent-training": "unsupervised", "--augment": "none",
    "--holdout": "0.1", "--seed": "0",
}

#: (row name, what it changes, the options it changes). The first row is the base; ``epochs`` is special.
ROWS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("base", "base: Adam 5e-4 constant, β 1e-5, σ 0.2, latent 128, no augmentation, unsupervised", {}),
    ("epochs", "twice the epochs", {}),
    ("augment", "augmentation: scale, jitter, dropout", {"--augment": "scale,jitter,dropout"}),
    ("rotate", "augmentation: rotation about the up axis", {"--augment": "rotate-z"}),
    ("beta", "β 1e-4 (ten times the KL weight)", {"--beta": "1e-4"}),
    ("sigma", "prior σ 1", {"--prior-std": "1.0"}),
    ("latent64", "latent 64 (the seed's code)", {"--latent-dim": "64"}),
    ("cosine", "cosine learning-rate schedule", {"--lr-schedule": "cosine"}),
    ("joint", "joint latent: the classifier's loss reaches the encoder", {"--latent-training": "joint"}),
    ("seed", "the seed's learning rate: Adam 1e-5 (its σ 0.2 and β 1e-5 are the base's)", {"--lr": "1e-5"}),
)


def _vaeviewer(*args: str) -> list[str]:
    return [sys.executable, "-m", "vaeviewer", *args]


def _epochs_done(run: Path) -> int:
    history = run / "history.csv"
    if not history.exists():
        return 0
    lines = [line for line in history.read_text().splitlines()[1:] if line.strip()]
    return int(lines[-1].split(",")[0]) if lines else 0


def train_row(root: Path, name: str, options: dict[str, str], data: str, epochs: int) -> Path:
    """Train (or resume, or leave alone when done) the run of one row; returns its folder."""
    run = root / name
    if name == "epochs":
        base = root / "base"
        if _epochs_done(base) < epochs:
            raise SystemExit(f"the epochs row continues the base run: train {base} to {epochs} epochs first")
        if not (run / "last.pt").exists():
            shutil.copytree(base, run, ignore=shutil.ignore_patterns("holdout.json", "events.out.*"),
                            dirs_exist_ok=True)
        epochs *= 2
    if _epochs_done(run) >= epochs:
        return run
    if (run / "last.pt").exists():
        command = _vaeviewer("train", "--out", str(run), "--resume", "--epochs", str(epochs))
    else:
        merged = {**BASE, **options}
        command = _vaeviewer("train", "--data", data, "--out", str(run), "--epochs", str(epochs),
                             *[item for pair in merged.items() for item in pair])
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)
    return run


def score_row(run: Path, data: str, generation_shapes: int) -> dict:
    """``vaeviewer evaluate --split holdout`` of the run's last epoch, kept in holdout.json."""
    kept = run / "holdout.json"
    if kept.exists() and kept.stat().st_mtime >= (run / "last.pt").stat().st_mtime:
        return json.loads(kept.read_text())
    figures = {}
    for sampler in ("prior", "gmm"):
        out = subprocess.run(
            _vaeviewer("evaluate", "--checkpoint", str(run / "last.pt"), "--data", data, "--split", "holdout",
                       "--gen-shapes", str(generation_shapes), "--sampler", sampler, "--json",
                       *(["--no-svm"] if sampler == "gmm" and figures else [])),
            check=True, capture_output=True, text=True).stdout
        scores = json.loads(out)
        if not figures:
            figures = scores
        figures[f"nna_{sampler}"] = scores.get("nna_cd")
    kept.write_text(json.dumps(figures, indent=1))
    return figures


def table(rows: list[tuple[str, dict]]) -> str:
    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    lines = ["| change (alone, on the base) | SVM on latent means | classifier | Chamfer | KL (nats) | "
             "1-NNA-CD prior / mixture |", "|---|---|---|---|---|---|"]
    for label, f in rows:
        lines.append(f"| {label} | {percent(f.get('svm_accuracy'))} | {percent(f.get('classifier_accuracy'))} | "
                     f"{f['chamfer_mean']:.5f} | {f['kl_mean']:.0f} | "
                     f"{percent(f.get('nna_prior'))} / {percent(f.get('nna_gmm'))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the data set (ModelNet10's h5 folder for the record)")
    parser.add_argument("--root", required=True, type=Path, help="folder of the rows' runs")
    parser.add_argument("--epochs", type=int, default=10, help="every row's budget (default: 10)")
    parser.add_argument("--gen-shapes", type=int, default=100, help="samples for 1-NNA-CD (default: 100)")
    parser.add_argument("--only", nargs="*", default=[], help="rows to run (default: all)")
    args = parser.parse_args(argv)
    args.root.mkdir(parents=True, exist_ok=True)
    done = []
    for name, label, options in ROWS:
        if args.only and name not in args.only:
            continue
        run = train_row(args.root, name, options, args.data, args.epochs)
        done.append((label, score_row(run, args.data, args.gen_shapes)))
        print(table(done), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
