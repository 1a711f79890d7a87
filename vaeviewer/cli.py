"""The ``vaeviewer`` command line.

Argument parsing only: every verb calls the shared workflows, training or
rendering code, imported inside its handler so that ``vaeviewer --help``
loads no torch, Qt or VTK. A mistake of the user's (a bad file or option)
ends with one line ``vaeviewer: error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from vaeviewer import __version__

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the tool."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"vaeviewer: error: {message} (see '{self.prog} --help')\n")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a point-cloud VAE",
        description="Train a point-cloud VAE. Writes RUN_DIR/last.pt after every epoch, RUN_DIR/best.pt "
        "(lowest validation Chamfer), RUN_DIR/history.csv and RUN_DIR/run.json. Ctrl-C stops after the "
        "current step and saves; --resume continues from last.pt. On several GPUs or machines run it under "
        "torchrun (torchrun --nproc_per_node K -m vaeviewer train ...): DistributedDataParallel, with "
        "--batch-size the global batch.",
    )
    from vaeviewer.training.settings import SETTINGS

    # The options are the settings' table: the loop checks the same bounds and the form shows the same help.
    for entry in SETTINGS:
        if not entry.flag:
            continue  # set in the window only
        if entry.name == "out_dir":
            p.add_argument(entry.flag, dest=entry.name, required=True, metavar="RUN_DIR", help=entry.help)
            continue
        extra: dict[str, Any] = {"choices": entry.choices} if entry.choices else {}
        extra["type"] = entry.kind
        extra["metavar"] = entry.flag[2:].upper().replace("-", "_")
        if entry.fixed_on_resume:
            extra["help"] = f"{entry.help} (default: {entry.default_text}; kept on --resume)"
        else:
            extra["help"] = f"{entry.help} (default: {entry.default_text})"
        p.add_argument(entry.flag, dest=entry.name, **extra)
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt")
    p.set_defaults(handler=_cmd_train)


def _add_model_and_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="model checkpoint, or a bundled model: demo, modelnet10 "
                   "(default: the bundled model whose classes match the data)")
    p.add_argument("--data", default="builtin", help="data set path or 'builtin' (default: builtin)")
    p.add_argument("--split", help="train or test (default: test when the data set has it)")


def _add_up_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--up", choices=("y", "z"),
                   help="the clouds' up axis in pictures (default: the data set's, as inspect reports it: z for "
                   "ModelNet and PointNet's ModelNet h5 files, y for ShapeNet and the built-in set)")


def _add_export_gif(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-gif",
        help="animate the interpolation between two shapes (GIF or MP4)",
        description="Encode shapes I and J, walk from one latent mean to the other and draw the decoded clouds "
        "as an animation: a GIF that loops forever, or an H.264 MP4, by the suffix of --out. The file appears "
        "only when complete; Ctrl-C cancels and writes nothing.",
    )
    _add_model_and_data_options(p)
    p.add_argument("--from", dest="from_index", type=int, required=True, metavar="I", help="index of shape A in the split")
    p.add_argument("--to", dest="to_index", type=int, required=True, metavar="J", help="index of shape B in the split")
    p.add_argument("--steps", type=int, default=12, help="interpolation steps, both shapes included (default: 12)")
    p.add_argument("--fps", type=float, default=10.0, help="frames per second, at most 50 for a GIF (default: 10)")
    p.add_argument("--size", type=int, default=512, help="frame height and panel width in pixels (default: 512)")
    p.add_argument("--method", choices=("lerp", "slerp"), default="lerp",
                   help="lerp: straight line; slerp: great circle, with the norm interpolated linearly (default: lerp)")
    p.add_argument("--layout", choices=("single", "triptych"), default="single",
                   help="single: the morph alone; triptych: A (grey) | morph (green) | B (grey) (default: single)")
    p.add_argument("--orbit", action="store_true", help="turn the camera once around the shapes over the clip")
    p.add_argument("--pingpong", action="store_true", help="play forward, then backward: 2*steps-2 frames")
    _add_up_option(p)
    p.add_argument("--out", required=True, metavar="OUT.gif|OUT.mp4", help="animation to write")
    p.add_argument("--save-clouds", metavar="FOLDER",
                   help="also write every decoded frame as a cloud, FOLDER/frame_000.ply ..., in the model's frame "
                   "(centred, unit sphere)")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda[:k] for the model (default: cpu)")
    p.set_defaults(handler=_cmd_export_gif)


#: ``gui --panel``: the window's panels and the latent studio's pages (generate, retrieve, edit).
_PANELS = ("dataset", "training", "reconstruction", "interpolation", "latent", "studio", "compare", "generate",
           "retrieve", "edit")


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line."""
    parser = _Parser(
        prog="vaeviewer",
        description="Train, inspect and explore point-cloud variational autoencoders.",
    )
    parser.add_argument("--version", action="version", version=f"vaeviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("inspect", help="summarise a data set or shape file",
                       description="Summarise a data set: format, classes, splits, points per shape.")
    p.add_argument("path", metavar="PATH", help="data set folder, .h5, shape file, or 'builtin'")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--grid", metavar="OUT.png", help="also draw a grid of shapes into this image")
    _add_up_option(p)
    p.set_defaults(handler=_cmd_inspect)

    _add_train(sub)

    p = sub.add_parser("reconstruct", help="reconstruct one shape with a model",
                       description="Reconstruct one shape and report its Chamfer distance.")
    _add_model_and_data_options(p)
    p.add_argument("--index", type=int, required=True, metavar="I", help="shape index in the split")
    p.add_argument("--out", metavar="OUT.png", help="draw the input and its reconstruction into this image (see --mode)")
    p.add_argument("--save-cloud", metavar="OUT.ply|.npy|.pcd|.xyz",
                   help="write the reconstruction as a cloud, in the model's frame: the input centred on its mean "
                   "and scaled to the unit sphere (the frame is also written in the file's header)")
    p.add_argument("--mode", choices=("overlay", "side", "error", "all"), default="all",
                   help="overlay: input (grey) under reconstruction (green); side: input | reconstruction; "
                   "error: both coloured by their squared distance to the other cloud (the two terms of the "
                   "Chamfer distance); all: every panel (default: all)")
    _add_up_option(p)
    p.add_argument("--error-max", type=float, metavar="E",
                   help="squared distance at the top of the error colours; give the same value to compare "
                   "pictures (default: the 99th percentile of this shape's errors)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda[:k] (default: cpu)")
    p.set_defaults(handler=_cmd_reconstruct)

    from vaeviewer.cli_scores import add_compare_command, add_evaluate_command

    add_evaluate_command(sub, _add_model_and_data_options)

    p = sub.add_parser(
        "pack",
        help="shrink a checkpoint for sharing",
        description="Write a checkpoint without its optimizer state, for using the model rather than training it "
        "further; --half stores the weights in half precision (half the size).",
    )
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="checkpoint to pack")
    p.add_argument("--out", required=True, metavar="OUT.pt", help="packed checkpoint to write")
    p.add_argument("--half", action="store_true", help="store floating-point weights as float16")
    p.set_defaults(handler=_cmd_pack)

    _add_export_gif(sub)
    from vaeviewer.cli_studio import add_studio_commands

    add_studio_commands(sub)
    add_compare_command(sub)

    p = sub.add_parser(
        "gui",
        help="open the window (the default command)",
        description="Open the window on a data set and a model: the built-in shapes and the bundled demo model "
        "unless told otherwise. With --screenshot it saves a picture of the whole window once everything is "
        "drawn, and exits.",
    )
    p.add_argument("--data", default="builtin", help="data set path or 'builtin' (default: builtin)")
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="model checkpoint, or a bundled model: demo, modelnet10 "
                   "(default: the bundled model whose classes match the data)")
    p.add_argument("--up", choices=("y", "z"), help="the clouds' up axis (default: the data set's: z for ModelNet "
                   "and PointNet's ModelNet h5 files, y for ShapeNet and the built-in set; View > Up axis changes it)")
    p.add_argument("--split", help="the split shown (default: test when the data set has it)")
    p.add_argument("--index", type=int, metavar="I", help="the shape shown first (default: 0)")
    p.add_argument("--pair", type=int, nargs=2, metavar=("I", "J"),
                   help="shapes A and B of the interpolation (default: the first two)")
    p.add_argument("--run", metavar="RUN_DIR", help="follow this training run in the training panel (its curves "
                   "and checkpoints, as vaeviewer train or torchrun write them)")
    p.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the window when drawn, then exit")
    p.add_argument("--panel", choices=_PANELS, help="the panel in front at start (or a page of the latent studio)")
    p.add_argument("--settings", metavar="FILE.ini", help="keep the window's settings in this file, not the user's")
    p.set_defaults(handler=_cmd_gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        # No command: open the window on the built-in data set and the bundled model.
        args = parser.parse_args(["gui"])
    from vaeviewer.errors import VaeviewerError

    try:
        return int(args.handler(args) or 0)
    except VaeviewerError as error:
        print(f"vaeviewer: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("vaeviewer: error: out of memory", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("vaeviewer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _print_json(value: Any) -> None:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    print(json.dumps(clean(value)))


def _cmd_inspect(args: argparse.Namespace) -> int:
    from vaeviewer.data import open_dataset
    from vaeviewer.workflows.inspect import format_inspection, grid_sample, inspect_dataset

    with open_dataset(args.path) as dataset:
        summary = inspect_dataset(dataset)
        if args.grid:
            from vaeviewer.render import save_png, shape_grid_image

            clouds, captions = grid_sample(dataset.default_split("train"))
            save_png(shape_grid_image(clouds, captions, up=args.up or dataset.up.axis), args.grid)
    print(json.dumps(summary) if args.json else format_inspection(summary))
    return 0


def _split_of(dataset: Any, name: str | None) -> Any:
    from vaeviewer.errors import OptionError

    if name is None:
        return dataset.default_split("test")
    if name not in dataset.split_names:
        raise OptionError(f"--split {name}: {dataset.path} has splits {', '.join(dataset.split_names)}")
    return dataset.split(name)


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    from vaeviewer.data import open_dataset

    if args.error_max is not None and not args.error_max > 0:
        from vaeviewer.errors import OptionError

        raise OptionError(f"--error-max {args.error_max}: must be a squared distance > 0")
    if args.save_cloud:
        from vaeviewer.data.cloud_files import check_cloud_path

        check_cloud_path(args.save_cloud)  # a wrong name fails before the model is loaded
    with open_dataset(args.data) as dataset:
        split = _split_of(dataset, args.split)
        if -len(split) <= args.index < len(split):
            split.points(args.index)  # a broken shape fails now, not after the seconds torch and the model take
        from vaeviewer.workflows.models import open_model
        from vaeviewer.workflows.reconstruct import reconstruct_shape

        model, checkpoint = open_model(args.checkpoint, args.device, dataset.class_names)
        result = reconstruct_shape(model, split, args.index, checkpoint.class_names)
        up = args.up or dataset.up.axis
    if args.out:
        from vaeviewer.render import comparison_image, save_png

        title = f"{result.shape_name} ({result.class_name})  CD {result.chamfer:.5f}"
        image = comparison_image(
            result.input_points, result.reconstruction, title, mode=args.mode, up=up,
            input_error=result.input_error, reconstruction_error=result.reconstruction_error, error_max=args.error_max,
        )
        save_png(image, args.out)
    if args.save_cloud:
        from vaeviewer.data.cloud_files import save_cloud

        save_cloud(args.save_cloud, result.reconstruction,
                   comment=f"vaeviewer reconstruction of {result.shape_name} ({result.split} #{result.index}) by "
                   f"{checkpoint.source or args.checkpoint}\nframe: the model's, the input centred on its mean and "
                   "scaled to the unit sphere")
    if args.json:
        _print_json({"index": result.index, "class": result.class_name, "chamfer": result.chamfer,
                     "split": result.split, "shape": result.shape_name, "predicted_class": result.predicted_class or None})
    else:
        predicted = f", classified as {result.predicted_class}" if result.predicted_class else ""
        where = f"{result.split} #{result.index}, {result.class_name}{predicted}"
        print(f"{result.shape_name} ({where}): Chamfer {result.chamfer:.5f}")
    return 0


def _cmd_pack(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    from vaeviewer.model import build_model, load_checkpoint, save_checkpoint

    checkpoint = load_checkpoint(args.checkpoint)
    build_model(checkpoint)  # refuse to pack weights that do not fit their config
    # As the window's Save As: the optimizer goes, what the run recorded of itself (``extra``) stays.
    packed = dataclasses.replace(checkpoint, optimizer_state=None)
    path = save_checkpoint(args.out, packed, half_precision=args.half)
    size = Path(path).stat().st_size / 2**20
    print(f"vaeviewer: wrote {path} ({size:.1f} MB, epoch {checkpoint.epoch}, {checkpoint.config.num_points} points)",
          file=sys.stderr)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from vaeviewer.errors import VaeviewerError
    from vaeviewer.training import (
        CheckpointSaved,
        EpochEnded,
        RunFinished,
        RunStarted,
        RunWarning,
        StepEnded,
        TaskControl,
        train,
    )
    from vaeviewer.training.distributed import RankFailed, torchrun_environment

    # Under torchrun every process runs this command and rank 0 alone talks. An error the processes
    # meet once connected is agreed and reported by rank 0 (RankFailed elsewhere); one met before
    # (an option, a file, a device) is the same for the processes of a machine, so the first
    # process of each other machine reports it too.
    launch = torchrun_environment()
    if launch is not None and launch.rank > 0:
        try:
            status = _train_quietly(args)
        except VaeviewerError as error:
            if launch.local_rank == 0 and not isinstance(error, RankFailed):
                print(f"vaeviewer: error: rank {launch.rank}: {error}", file=sys.stderr)
            status = EXIT_USAGE
        if status != 0:
            time.sleep(3)  # torchrun stops every process once one ends with an error: leave rank 0 time to say why
        return status

    settings = _train_settings(args)
    control = TaskControl()
    # torchrun passes on the SIGINT or SIGTERM it gets (Ctrl-C, a scheduler's end of job) to
    # every process; each asks for a stop and the processes agree on the step to stop after.
    signals = (signal.SIGINT, signal.SIGTERM) if launch is not None else (signal.SIGINT,)
    bar = None
    finished: RunFinished | None = None
    with _stop_on_signals(control, "stopping after this step and saving", signals):
        try:
            for event in train(settings, control, resume=args.resume):
                if isinstance(event, RunStarted):
                    what = "resuming" if event.resumed else "training"
                    where = event.device
                    if launch is not None:
                        where = (f"{launch.world_size} processes ({'GPUs' if event.device.startswith('cuda') else 'CPU'}, "
                                 f"{settings.batch_size // launch.world_size} shapes per process and step)")
                    print(
                        f"vaeviewer: {what} on {event.train_shapes} shapes ({event.val_shapes} for validation), "
                        f"{event.steps_per_epoch} steps per epoch, on {where}; run folder {event.run_dir}",
                        file=sys.stderr,
                    )
                elif isinstance(event, StepEnded):
                    if bar is None:
                        bar = tqdm(total=event.steps_per_epoch, initial=event.step - 1,
                                   desc=f"epoch {event.epoch + 1}/{settings.epochs}",
                                   unit="step", file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
                    postfix = {"chamfer": f"{event.chamfer:.4g}", "kl": f"{event.kl:.4g}"}
                    if event.classifier_loss:
                        postfix["nll"] = f"{event.classifier_loss:.3g}"
                    bar.set_postfix(postfix, refresh=False)
                    bar.update(1)
                elif isinstance(event, EpochEnded):
                    if bar is not None:
                        bar.close()
                        bar = None
                    m = event.metrics
                    line = f"epoch {event.epoch + 1}/{settings.epochs}: Chamfer {m['train_chamfer']:.5g}, KL {m['train_kl']:.4g}"
                    if not math.isnan(m.get("val_chamfer", math.nan)):
                        line += f", val Chamfer {m['val_chamfer']:.5g}"
                    if not math.isnan(m.get("val_accuracy", math.nan)):
                        line += f", val accuracy {100 * m['val_accuracy']:.1f} %"
                    print(line, file=sys.stderr)
                elif isinstance(event, CheckpointSaved) and event.kind == "step":
                    pass
                elif isinstance(event, RunWarning):
                    tqdm.write(f"vaeviewer: warning: {event.message}", file=sys.stderr)  # above the bar, if one is up
                elif isinstance(event, RunFinished):
                    finished = event
        finally:
            if bar is not None:
                bar.close()
    if finished is None:
        return EXIT_FAILED
    if finished.status == "failed":
        print(f"vaeviewer: error: training stopped: {finished.message}", file=sys.stderr)
        return EXIT_FAILED
    print(f"vaeviewer: {finished.message}", file=sys.stderr)
    return 0


def _train_settings(args: argparse.Namespace) -> Any:
    """The settings of ``train``: from the options, or those of the run being resumed with the options' changes."""
    from vaeviewer.training import TrainSettings, settings_for_resume
    from vaeviewer.training.settings import SETTINGS

    given = {entry.name: getattr(args, entry.name) for entry in SETTINGS
             if entry.flag and entry.name != "out_dir" and getattr(args, entry.name) is not None}
    if args.resume:
        return settings_for_resume(args.out_dir, given)
    return TrainSettings(out_dir=args.out_dir, **given)


@contextlib.contextmanager
def _stop_on_signals(control: Any, message: str = "", signals: tuple[int, ...] = (signal.SIGINT,)) -> Iterator[None]:
    """Within the block, the first Ctrl-C (or other signal of ``signals``) asks ``control`` to stop.

    The work then ends at its next step boundary and keeps what it has (a
    training run saves, an export removes its partial file); ``message``, when
    given, says so on stderr. A second signal acts as usual: Ctrl-C raises
    KeyboardInterrupt at once. The previous handlers come back after the block.
    """

    def handler(signum: int, frame: Any) -> None:
        control.stop()
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        if message:
            from tqdm import tqdm  # writes between progress bars

            tqdm.write(f"vaeviewer: {message} (Ctrl-C again to abort)", file=sys.stderr)

    previous = {signum: signal.signal(signum, handler) for signum in signals}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _train_quietly(args: argparse.Namespace) -> int:
    """``train`` in a process of rank > 0 of a torchrun run: the same run, nothing printed."""
    from vaeviewer.training import RunFinished, TaskControl, train

    settings = _train_settings(args)
    control = TaskControl()
    finished = None
    with _stop_on_signals(control, signals=(signal.SIGINT, signal.SIGTERM)):
        for event in train(settings, control, resume=args.resume):
            if isinstance(event, RunFinished):
                finished = event
    return 0 if finished is not None and finished.status != "failed" else EXIT_FAILED


def _cmd_gui(args: argparse.Namespace) -> int:
    from vaeviewer.gui.app import run_app

    return run_app(args.data, args.checkpoint, up=args.up, screenshot=args.screenshot, panel=args.panel,
                   settings_file=args.settings, split=args.split, index=args.index, pair=args.pair, run=args.run)


def _cmd_export_gif(args: argparse.Namespace) -> int:
    from vaeviewer.workflows.export import check_export_options

    # Before the model and data load: a typo in --out should not cost seconds.
    check_export_options(args.out, steps=args.steps, fps=args.fps, size=args.size, method=args.method,
                         layout=args.layout, up=args.up or "y")
    from tqdm import tqdm

    from vaeviewer.data import open_dataset
    from vaeviewer.errors import OptionError
    from vaeviewer.render.animation import animation_size
    from vaeviewer.tasks import TaskControl
    from vaeviewer.workflows.export import export_interpolation
    from vaeviewer.workflows.models import open_model

    clouds, names = [], []
    with open_dataset(args.data) as dataset:
        model, _ = open_model(args.checkpoint, args.device, dataset.class_names)
        split = _split_of(dataset, args.split)
        up = args.up or dataset.up.axis
        for option, index in (("--from", args.from_index), ("--to", args.to_index)):
            if not -len(split) <= index < len(split):
                raise OptionError(f"{option} {index} is out of range: split {split.name!r} has {len(split)} shapes")
            clouds.append(split.points(index, model.config.num_points))
            names.append(split.shape_name(index))

    control = TaskControl()
    events = export_interpolation(
        model, clouds[0], clouds[1], args.out, steps=args.steps, fps=args.fps, size=args.size,
        method=args.method, layout=args.layout, orbit=args.orbit, pingpong=args.pingpong, up=up,
        labels=(f"A: {names[0]}", f"B: {names[1]}"), control=control,
    )
    bar = None
    last = None
    try:
        with _stop_on_signals(control, "cancelling; nothing will be written"):
            for last in events:
                if bar is None:
                    bar = tqdm(total=last.total, desc=last.stage, unit="frame", file=sys.stderr, mininterval=0.5,
                               dynamic_ncols=True)
                bar.set_description(last.stage, refresh=False)
                bar.update(last.frame - bar.n)
    finally:
        events.close()  # on a second Ctrl-C: removes the partial file now, not at garbage collection
        if bar is not None:
            bar.close()
    if last is None or last.stage != "done":
        print("vaeviewer: export cancelled; nothing written", file=sys.stderr)
        return 130
    width, height = animation_size(args.layout, args.size)
    size = last.path.stat().st_size
    amount = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} kB"
    print(f"vaeviewer: wrote {last.path} ({last.total} frames, {width}x{height}, {args.fps:g} fps, {amount})",
          file=sys.stderr)
    if args.save_clouds:
        _save_frames(Path(args.save_clouds), model, clouds, names, args.steps, args.method)
    return 0


def _save_frames(folder: Path, model: Any, clouds: list[Any], names: list[str], steps: int, method: str) -> None:
    """The decoded frames of the path as PLY clouds (decoded again: a few milliseconds, the same codes)."""
    from vaeviewer.data.cloud_files import save_cloud
    from vaeviewer.errors import DataFileError
    from vaeviewer.workflows.interpolate import interpolate

    if folder.exists() and not folder.is_dir():
        raise DataFileError(folder, "is a file, not a folder for the clouds")
    result = interpolate(model, clouds[0], clouds[1], steps, method)
    for k, (t, frame) in enumerate(zip(result.ts, result.frames)):
        save_cloud(folder / f"frame_{k:03d}.ply", frame,
                   comment=f"vaeviewer {method} path from {names[0]} to {names[1]}, frame {k} of {steps} (t = {t:.4f})\n"
                   "frame: the model's (centred, unit sphere)")
    print(f"vaeviewer: wrote {steps} clouds to {folder}", file=sys.stderr)
