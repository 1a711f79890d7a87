"""The latent studio on the command line: ``sample``, ``retrieve`` and ``edit`` (see :mod:`vaeviewer.workflows.studio`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_studio_commands"]


def _command(sub: argparse._SubParsersAction, name: str, summary: str, description: str, split_help: str,
             handler: Any, json_option: bool = True) -> argparse.ArgumentParser:
    """A sub-command with the model and data options every studio verb takes (and ``--json`` where asked)."""
    p = sub.add_parser(name, help=summary, description=description)
    _model_and_data(p, split_help)
    if json_option:
        p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=handler)
    return p


def _model_and_data(p: argparse.ArgumentParser, split_help: str) -> None:
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="model checkpoint, or a bundled model: demo, modelnet10 (default: the bundled model whose "
                   "classes match the data)")
    p.add_argument("--data", default="builtin", help="data set path or 'builtin' (default: builtin)")
    p.add_argument("--split", help=split_help)
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda[:k] (default: cpu)")
    p.add_argument("--no-cache", action="store_true", help="encode the split again instead of reading its cached codes")


def add_studio_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``sample``, ``retrieve`` and ``edit`` to the command line's sub-commands."""
    p = _command(
        sub, "sample", "generate shapes from the model, each with its nearest training shape",
        "Decode codes drawn from the prior N(0, (T s)^2 I) or from a Gaussian mixture fit to the training shapes' codes "
        "(the aggregate posterior), write them as clouds and name each one's nearest training shape by Chamfer "
        "distance (the memorisation check). The same seed gives the same samples.",
        "split whose shapes the samples are compared with (default: train when the data set has it)", _cmd_sample,
    )
    p.add_argument("--count", type=int, default=6, help="samples to draw (default: 6)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--temperature", type=float, default=1.0, help="scale of the standard deviation (default: 1)")
    p.add_argument("--prior", choices=("normal", "mixture"), default="normal",
                   help="normal: the model's prior; mixture: a Gaussian mixture of the training codes (default: normal)")
    p.add_argument("--out", required=True, metavar="FOLDER", help="folder for sample_000.ply, ...")

    p = _command(
        sub, "retrieve", "the shapes of a split nearest to query files, in latent space",
        "Encode each query file (any mesh or cloud file vaeviewer reads) and list the k shapes of the split whose "
        "latent means are nearest. The split's codes are cached beside the thumbnails.",
        "split to search (default: train when the data set has it)", _cmd_retrieve,
    )
    p.add_argument("--k", type=int, default=5, help="shapes to list per query (default: 5)")
    p.add_argument("--query", nargs="+", required=True, metavar="FILE", help="shape files to look up")

    p = _command(
        sub, "edit", "move a shape along a direction of the latent space and save it",
        "Encode shape I, move its code AMOUNT steps along a direction and decode it: pcK is one standard deviation "
        "along the K-th principal direction of the split's codes; CLASS_A-CLASS_B is the mean code of class A minus "
        "that of class B (amount 1 moves by the whole difference).",
        "split of shape I, whose codes give the directions (default: test when the data set has it)", _cmd_edit,
        json_option=False,
    )
    p.add_argument("--index", type=int, required=True, metavar="I", help="shape index in the split")
    p.add_argument("--direction", required=True, help="pc1, pc2, ... or CLASS_A-CLASS_B")
    p.add_argument("--amount", type=float, required=True, help="steps along the direction (negative: the other way)")
    p.add_argument("--save-cloud", metavar="OUT.ply|.npy|.pcd|.xyz",
                   help="the edited shape, in the model's frame (centred, unit sphere)")
    p.add_argument("--gif", metavar="OUT.gif|.mp4", help="an animation of the shape swept along the direction, "
                   "from -AMOUNT to +AMOUNT (the window's Export sweep)")
    p.add_argument("--steps", type=int, default=24, help="frames of the sweep (default: 24)")
    p.add_argument("--fps", type=float, default=12.0, help="frames per second of the sweep (default: 12)")
    p.add_argument("--size", type=int, default=320, help="frame height and panel width in pixels (default: 320)")
    p.add_argument("--layout", choices=("single", "triptych"), default="single",
                   help="single: the sweep alone; triptych: -AMOUNT | sweep | +AMOUNT (default: single)")
    p.add_argument("--up", choices=("y", "z"), help="the clouds' up axis in the sweep (default: the data set's)")


def _open(args: argparse.Namespace, preferred: str) -> tuple[Any, Any, Any, Any]:
    """The data set (open), the split, the model and its checkpoint."""
    from vaeviewer.data import open_dataset
    from vaeviewer.errors import OptionError
    from vaeviewer.workflows.models import open_model

    dataset = open_dataset(args.data)
    try:
        if args.split is not None and args.split not in dataset.split_names:
            raise OptionError(f"--split {args.split}: {dataset.path} has splits {', '.join(dataset.split_names)}")
        split = dataset.split(args.split) if args.split else dataset.default_split(preferred)
        model, checkpoint = open_model(args.checkpoint, args.device, dataset.class_names)
    except BaseException:
        dataset.close()
        raise
    return dataset, split, model, checkpoint


def _index(args: argparse.Namespace, model: Any, split: Any, checkpoint: Any) -> Any:
    from vaeviewer.workflows.studio import build_index, data_location

    return build_index(model, split, checkpoint=checkpoint.source, data=data_location(args.data), cache=not args.no_cache)


def _cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from vaeviewer.data.cloud_files import save_cloud
    from vaeviewer.errors import OptionError
    from vaeviewer.workflows.studio import reference_distances, sample_shapes

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: is a file, not a folder")
    dataset, split, model, checkpoint = _open(args, "train")
    with dataset:
        index = _index(args, model, split, checkpoint)
        samples = sample_shapes(model, index, split, args.count, args.seed, args.temperature, args.prior)
        # The same distances for unseen shapes: samples much nearer their neighbours than these are copies.
        unseen = [name for name in dataset.split_names if name != split.name]
        references = (reference_distances(model, index, split, dataset.split(unseen[-1]), max(args.count, 20))
                      if unseen else np.zeros(0))
    rows = []
    for k, sample in enumerate(samples):
        name = index.names[sample.nearest_row]
        path = save_cloud(out / f"sample_{k:03d}.ply", sample.cloud,
                          comment=f"vaeviewer sample {k} of {args.count}, seed {args.seed}, {args.prior} prior, "
                          f"temperature {args.temperature:g}; nearest {split.name} shape {name} (Chamfer "
                          f"{sample.nearest_chamfer:.5f})\nframe: the model's (centred, unit sphere)")
        rows.append({"file": str(path), "seed": args.seed,
                     "nearest": {"index": int(index.indices[sample.nearest_row]), "name": name,
                                 "class": index.class_of(sample.nearest_row), "split": split.name},
                     "chamfer": sample.nearest_chamfer})
    median = float(np.median([row["chamfer"] for row in rows]))
    reference = {"split": unseen[-1], "shapes": len(references), "chamfer": [float(d) for d in references],
                 "median": float(np.median(references))} if len(references) else None
    if args.json:
        print(json.dumps({"prior": args.prior, "temperature": args.temperature, "seed": args.seed, "samples": rows,
                          "median_chamfer": median, "unseen_to_train": reference}))
    else:
        for row in rows:
            nearest = row["nearest"]
            print(f"{row['file']}: nearest {nearest['split']} shape {nearest['name']} ({nearest['class']}), "
                  f"Chamfer {row['chamfer']:.5f}")
        if reference is not None:
            print(f"median Chamfer to the nearest {split.name} shape: samples {median:.5f}, {reference['shapes']} "
                  f"{reference['split']} shapes {reference['median']:.5f} (samples far nearer than unseen shapes are "
                  "copies)", file=sys.stderr)
    return 0


def _cmd_retrieve(args: argparse.Namespace) -> int:
    from vaeviewer.data.file_tree import SingleFileSet
    from vaeviewer.workflows.studio import retrieve

    dataset, split, model, checkpoint = _open(args, "train")
    with dataset:
        began = time.perf_counter()
        index = _index(args, model, split, checkpoint)
        clouds = []
        for query in args.query:
            with SingleFileSet(query) as single:
                clouds.append(single.split("all").points(0, model.config.num_points))
        found = retrieve(model, index, clouds, args.k)
        seconds = time.perf_counter() - began
    queries = [{"query": query, "neighbours": [
        {"index": int(index.indices[row]), "name": index.names[row], "class": index.class_of(row), "distance": distance}
        for row, distance in rows]} for query, rows in zip(args.query, found)]
    if args.json:
        print(json.dumps({"seconds": seconds, "split": split.name, "cached": index.cached, "queries": queries}))
    else:
        for entry in queries:
            print(entry["query"])
            for neighbour in entry["neighbours"]:
                print(f"  {neighbour['index']:>6}  {neighbour['name']:<32} {neighbour['class']:<16} "
                      f"{neighbour['distance']:.4f}")
        print(f"{'cached codes' if index.cached else 'encoded'} {len(index.latents)} shapes of {split.name}; "
              f"{seconds:.2f} s", file=sys.stderr)
    return 0


def _cmd_edit(args: argparse.Namespace) -> int:
    from vaeviewer.data.cloud_files import check_cloud_path, save_cloud
    from vaeviewer.errors import OptionError
    from vaeviewer.workflows.export import check_export_options
    from vaeviewer.workflows.studio import edit_direction, edit_shape, encode_clouds, sweep

    if args.save_cloud is None and args.gif is None:
        raise OptionError("edit: give --save-cloud OUT (the edited shape) or --gif OUT (its sweep), or both")
    if args.save_cloud is not None:
        check_cloud_path(args.save_cloud)
    if args.gif is not None:
        check_export_options(args.gif, steps=args.steps, fps=args.fps, size=args.size, layout=args.layout, up=args.up or "y")
    dataset, split, model, checkpoint = _open(args, "test")
    with dataset:
        up = args.up or dataset.up.axis
        if not -len(split) <= args.index < len(split):
            raise OptionError(f"--index {args.index} is out of range: split {split.name!r} has {len(split)} shapes")
        cloud = split.points(args.index, model.config.num_points)
        step = edit_direction(_index(args, model, split, checkpoint), args.direction)
        name = split.shape_name(args.index)
        edited = edit_shape(model, cloud, step, [args.amount])[0]
        swept = sweep(model, encode_clouds(model, [cloud])[0], step, abs(args.amount), args.steps,
                      args.direction) if args.gif else None
    if args.save_cloud is not None:
        path = save_cloud(args.save_cloud, edited, comment=f"vaeviewer edit of {name} ({split.name} #{args.index}): "
                          f"{args.amount:g} x {args.direction}\nframe: the model's (centred, unit sphere)")
        print(f"vaeviewer: wrote {path} ({name} moved {args.amount:g} x {args.direction})", file=sys.stderr)
    if swept is not None:
        path = _write_sweep(args, swept, up, (f"{args.direction} -{abs(args.amount):g}", f"{args.direction} "
                                          f"+{abs(args.amount):g}"))
        print(f"vaeviewer: wrote {path} ({name} swept {args.direction} from -{abs(args.amount):g} to "
              f"+{abs(args.amount):g}, {args.steps} frames)", file=sys.stderr)
    return 0


def _write_sweep(args: argparse.Namespace, swept: Any, up: str, labels: tuple[str, str]) -> Path:
    """Render a sweep into ``args.gif`` with the interpolation's exporter; the written file."""
    from vaeviewer.render.writers import open_animation_writer
    from vaeviewer.workflows.export import write_interpolation

    written = None
    for event in write_interpolation(swept, open_animation_writer(args.gif, args.fps), size=args.size,
                                     layout=args.layout, up=up, labels=labels):
        written = event.path or written
    assert written is not None
    return written
