"""Animated GIF and MP4 files written one frame at a time, atomically.

Frames go into a temporary file next to the target; :meth:`AnimationWriter.commit`
renames it into place, :meth:`AnimationWriter.abort` removes it. So a
cancelled export, a full disk or a crash never leaves a half-written file
under the name the user asked for. Every way the target cannot be written
becomes an :class:`~vaeviewer.errors.OptionError` that names the file.

The GIF writer encodes each frame as it arrives (it keeps only the previous
frame, to send just the rectangle that changed); the MP4 writer streams raw
frames into ffmpeg (the binary shipped with ``imageio-ffmpeg``).
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaeviewer.errors import OptionError
from vaeviewer.files import remove_quietly, temporary_name

__all__ = [
    "ANIMATION_SUFFIXES",
    "GIF_MAX_FPS",
    "MP4_MAX_FPS",
    "AnimationWriter",
    "GifWriter",
    "Mp4Writer",
    "check_animation_path",
    "gif_delays",
    "gif_palette",
    "open_animation_writer",
]

#: File name suffixes :func:`open_animation_writer` knows.
ANIMATION_SUFFIXES = (".gif", ".mp4")
#: GIF stores delays in hundredths of a second, and browsers play delays under
#: 2/100 s at 10 frames a second: 50 fps is the fastest a GIF really plays.
GIF_MAX_FPS = 50.0
#: A generous ceiling for MP4; faster clips are almost surely a typo.
MP4_MAX_FPS = 120.0

# Distinct temporary names for writers of one process aimed at the same target.


def check_animation_path(path: str | os.PathLike[str], fps: float) -> Path:
    """Check that ``path`` names a format we write and that it plays at ``fps``.

    Parameters
    ----------
    path : str or path-like
        The target file; its suffix (``.gif`` or ``.mp4``, any case) picks the format.
    fps : float
        Frames per second.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    OptionError
        For an unknown suffix, or a frame rate the format cannot play.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        what = f"format {target.suffix!r}" if target.suffix else "format (no suffix)"
        raise OptionError(f"{target}: unknown animation {what}; name the file .gif or .mp4")
    ceiling = GIF_MAX_FPS if suffix == ".gif" else MP4_MAX_FPS
    if not 0 < fps <= ceiling:
        raise OptionError(f"--fps {fps:g}: a {suffix[1:].upper()} plays more than 0 and at most {ceiling:g} frames a second")
    return target


def gif_delays(count: int, fps: float) -> list[int]:
    """Per-frame GIF delays in hundredths of a second that average exactly ``1/fps``.

    GIF delays are whole hundredths, so 30 fps cannot be 3.33 each; rounding
    the *cumulative* time instead gives 3, 4, 3, 3, 4, 3, ... and no drift.
    :class:`GifWriter` gives its frames these delays.
    """
    return [_gif_end_cs(k + 1, fps) - _gif_end_cs(k, fps) for k in range(count)]


def _gif_end_cs(frames: int, fps: float) -> int:
    """When frame ``frames - 1`` ends, in hundredths of a second from the start."""
    return int(round(frames * 100.0 / fps))


def _cannot_write(target: Path, error: BaseException) -> OptionError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    # ffmpeg's messages run over many lines: the first says what went wrong.
    reason = next((line for line in reason.splitlines() if line.strip()), "unknown error")[:200]
    return OptionError(f"{target}: cannot write: {reason}")


class AnimationWriter:
    """Base of the writers: a temporary file that becomes the target on :meth:`commit`.

    Use as a context manager; leaving the block without :meth:`commit` (an
    exception, a cancel) removes the temporary file.

    Parameters
    ----------
    path : str or path-like
        The target file. Its folder is created if missing.
    fps : float
        Frames per second.

    Attributes
    ----------
    path : pathlib.Path
        The target file.
    fps : float
    frames_written : int
        Frames appended so far.
    frame_size : tuple of int or None
        (width, height) of the frames, set by the first one.

    Raises
    ------
    OptionError
        If the suffix or ``fps`` is wrong, or the folder cannot be written.
    """

    suffix = ""

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        self.path = check_animation_path(path, fps)
        if self.path.suffix.lower() != self.suffix:
            raise OptionError(f"{self.path}: a {type(self).__name__} writes {self.suffix} files")
        self.fps = float(fps)
        self.frames_written = 0
        self.frame_size: tuple[int, int] | None = None
        self._finished = False
        # Same folder as the target, so that the final rename is atomic; the
        # suffix stays last because ffmpeg picks the container from it.
        self._tmp = temporary_name(self.path, self.suffix)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            self._file: IO[bytes] | None = open(self._tmp, "wb")
        except OSError as error:
            remove_quietly(self._tmp)
            raise _cannot_write(self.path, error) from None

    @property
    def temp_path(self) -> Path:
        """Where the frames go until :meth:`commit`."""
        return self._tmp

    def append(self, image: np.ndarray) -> None:
        """Add one frame: uint8 (height, width, 3), the same size as the first one."""
        if self._finished:
            raise RuntimeError("the writer is already committed or aborted")
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"frames must be uint8 (height, width, 3) images, got {image.dtype} {image.shape}")
        size = (image.shape[1], image.shape[0])
        if self.frame_size is None:
            self.frame_size = size
        elif size != self.frame_size:
            raise ValueError(f"frame {self.frames_written} is {size}, the first was {self.frame_size}")
        try:
            self._append(np.ascontiguousarray(image))
        except (OSError, RuntimeError) as error:
            self.abort()
            raise _cannot_write(self.path, error) from None
        self.frames_written += 1

    def commit(self) -> Path:
        """Finish the file and move it to :attr:`path` (replacing an older one); return the path."""
        if self._finished:
            raise RuntimeError("the writer is already committed or aborted")
        if self.frames_written == 0:
            self.abort()
            raise ValueError("an animation needs at least one frame")
        try:
            self._finish()
            os.replace(self._tmp, self.path)
        except (OSError, RuntimeError) as error:
            self.abort()
            raise _cannot_write(self.path, error) from None
        self._finished = True
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; the target is left as it was. Safe to call twice."""
        self._finished = True
        try:
            self._close_quietly()
        finally:
            remove_quietly(self._tmp)

    def close(self) -> None:
        """Abort unless committed: what a ``with`` block does on leaving."""
        if not self._finished:
            self.abort()

    def _close_file(self) -> None:
        """Flush the temporary file to disk, so that a full disk shows up here and not later."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.flush()
                os.fsync(file.fileno())
            finally:
                file.close()

    def _close_quietly(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError:
                pass

    def _append(self, image: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> AnimationWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class GifWriter(AnimationWriter):
    """An animated GIF that loops forever, encoded frame by frame.

    The palette is built once, from the first frame: its 16 most common
    colours exactly (the background, the flat parts) plus 240 colours
    median-cut from its *distinct* colours, each counted once, so that the
    white background does not crowd out the shades of the clouds. Every
    frame maps to that one global palette without dithering: colours stay
    put from frame to frame (no flicker, no crawling dither noise), grey
    and green stay apart, and only the rectangle that changed is stored.
    The first frame must therefore show every colour the animation uses
    (true of our layouts, whose colours do not change over time).

    Every appended frame becomes a frame of the file, with its own delay,
    even when it equals the previous one (Pillow's ``save_all`` would merge
    those and a ping-pong or a paused orbit would lose frames): an unchanged
    frame is stored as one unchanged pixel.
    """

    suffix = ".gif"

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        super().__init__(path, fps)
        self._palette: Any = None  # a Pillow "P" image holding the global palette
        self._previous: np.ndarray | None = None

    def _append(self, image: np.ndarray) -> None:
        from PIL import GifImagePlugin, Image

        assert self._file is not None
        if self._palette is None:
            self._palette = Image.new("P", (1, 1))
            self._palette.putpalette(gif_palette(image).ravel().tolist())
            self._file.write(self._header(image.shape[1], image.shape[0]))
        indices = np.asarray(Image.fromarray(image).quantize(palette=self._palette, dither=Image.Dither.NONE))
        if self._previous is None:
            x0, y0, x1, y1 = 0, 0, indices.shape[1], indices.shape[0]
        else:
            changed = indices != self._previous
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if len(rows):
                x0, y0, x1, y1 = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
            else:
                x0, y0, x1, y1 = 0, 0, 1, 1
        self._previous = indices
        # Whole hundredths that add up to the exact clip length (see gif_delays).
        k = self.frames_written
        delay = _gif_end_cs(k + 1, self.fps) - _gif_end_cs(k, self.fps)
        # Graphic control extension: disposal 1 ("leave in place") so the next,
        # cropped frame is drawn over this one; no transparency.
        self._file.write(b"\x21\xf9\x04" + bytes([1 << 2]) + struct.pack("<H", delay) + b"\x00\x00")
        crop = np.ascontiguousarray(indices[y0:y1, x0:x1])
        part = Image.frombytes("P", (int(x1 - x0), int(y1 - y0)), crop.tobytes())
        # Pillow's documented helper for writing GIFs frame by frame: the
        # image descriptor and the LZW-compressed pixels of one frame.
        for chunk in GifImagePlugin.getdata(part, offset=(int(x0), int(y0))):
            self._file.write(chunk)

    def _header(self, width: int, height: int) -> bytes:
        if not (0 < width < 65536 and 0 < height < 65536):
            raise ValueError(f"a GIF is at most 65535 pixels wide and high, got {width}x{height}")
        palette = np.asarray(self._palette.getpalette(), dtype=np.uint8)[: 3 * 256]
        palette = np.pad(palette, (0, 3 * 256 - len(palette)))
        return (
            b"GIF89a"
            + struct.pack("<HH", width, height)
            + bytes([0xF7, 0, 0])  # global colour table of 256 entries, background index 0, no aspect
            + palette.tobytes()
            # NETSCAPE2.0 application extension: repeat forever (loop count 0).
            + b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00"
        )

    def _finish(self) -> None:
        assert self._file is not None
        self._file.write(b"\x3b")  # trailer
        self._close_file()


def gif_palette(image: np.ndarray) -> np.ndarray:
    """The 256-colour palette :class:`GifWriter` uses for an animation starting with ``image``.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 (h, w, 3).

    Returns
    -------
    numpy.ndarray
        uint8 (256, 3). Every colour of ``image`` when it has at most 256,
        else its 16 most common colours followed by a median cut of the
        others (each distinct colour counted once).
    """
    from PIL import Image

    rgb = image.reshape(-1, 3).astype(np.uint32)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    colours = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=1).astype(np.uint8)
    if len(colours) > 256:
        order = np.argsort(-counts, kind="stable")
        common, rest = colours[order[:16]], colours[order[16:]]
        cut = Image.fromarray(rest[None]).quantize(240, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        used = np.unique(np.asarray(cut))
        cut_colours = np.asarray(cut.getpalette(), dtype=np.uint8).reshape(-1, 3)[used]
        colours = np.concatenate([common, cut_colours])[:256]
    # Pad by repeating the first colour: a duplicate entry is never the unique nearest one.
    return np.concatenate([colours, np.repeat(colours[:1], 256 - len(colours), axis=0)])


class Mp4Writer(AnimationWriter):
    """An H.264 MP4 (yuv420p, so that every player shows it), through ffmpeg.

    yuv420p needs even sizes: a frame with an odd width or height gets its
    last column or row repeated once. The finished file is checked by
    counting its frames, so that an ffmpeg failure (a full disk while it
    writes the index, say) is an error and not a broken video.
    """

    suffix = ".mp4"

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        super().__init__(path, fps)
        # ffmpeg opens the file itself; ours only proved that the folder is writable.
        self._close_quietly()
        self._encoder: Any = None

    def _append(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        image = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        if self._encoder is None:
            import imageio_ffmpeg

            self._encoder = imageio_ffmpeg.write_frames(
                str(self._tmp),
                (image.shape[1], image.shape[0]),
                fps=self.fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=None,
                # CRF 18 keeps single-pixel point edges crisp; faststart puts
                # the index first so that browsers start playing at once.
                output_params=["-crf", "18", "-preset", "medium", "-movflags", "+faststart"],
                macro_block_size=2,
                ffmpeg_log_level="quiet",
            )
            self._encoder.send(None)
        self._encoder.send(np.ascontiguousarray(image))

    def _finish(self) -> None:
        import imageio_ffmpeg

        encoder, self._encoder = self._encoder, None
        encoder.close()  # waits for ffmpeg to write the whole file
        try:
            frames, _ = imageio_ffmpeg.count_frames_and_secs(str(self._tmp))
        except (OSError, RuntimeError):
            frames = -1
        if frames != self.frames_written:
            raise RuntimeError(f"ffmpeg wrote an incomplete video ({max(frames, 0)} of {self.frames_written} frames)")

    def _close_quietly(self) -> None:
        super()._close_quietly()
        encoder, self._encoder = getattr(self, "_encoder", None), None
        if encoder is not None:
            try:
                encoder.close()
            except (OSError, RuntimeError):
                pass


def open_animation_writer(path: str | os.PathLike[str], fps: float) -> AnimationWriter:
    """A :class:`GifWriter` or :class:`Mp4Writer`, by the suffix of ``path``.

    Raises
    ------
    OptionError
        For an unknown suffix, a frame rate the format cannot play, or a
        target that cannot be written.
    """
    target = check_animation_path(path, fps)
    writer = GifWriter if target.suffix.lower() == ".gif" else Mp4Writer
    return writer(target, fps)
