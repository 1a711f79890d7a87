"""Animation frames and the GIF/MP4 writers: read every file back and look at its frames."""

from __future__ import annotations

import errno
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from tests.render.pixels import is_green, is_grey
from vaeviewer.errors import OptionError
from vaeviewer.render import writers
from vaeviewer.render.animation import animation_size, interpolation_frames, playback_order
from vaeviewer.render.writers import GifWriter, Mp4Writer, gif_delays, open_animation_writer

SIZE = 96


def box(scale: tuple[float, float, float], n: int = 400, seed: int = 0) -> np.ndarray:
    """Points on the surface of a box: lopsided enough that turning the camera changes the picture."""
    points = np.random.default_rng(seed).uniform(-1, 1, size=(n, 3))
    axis = np.arange(n) % 3
    points[np.arange(n), axis] = np.sign(points[np.arange(n), axis])
    return (points * np.array(scale) * 0.55).astype(np.float32)


def mostly_green(panel: np.ndarray) -> bool:
    """Green points, whose anti-aliased rims are the only greyish pixels below the title."""
    body = panel[SIZE // 5 :]
    return is_green(body).sum() > 150 and is_grey(body).sum() < is_green(body).sum() / 2


def only_grey(panel: np.ndarray) -> bool:
    return is_grey(panel).sum() > 150 and is_green(panel).sum() == 0


@pytest.fixture(scope="module")
def clouds() -> np.ndarray:
    return np.stack([box((1.6, 0.5, 0.5)), box((1.0, 1.0, 1.0)), box((0.5, 1.6, 0.5))])


@pytest.fixture(scope="module")
def triptych(clouds: np.ndarray) -> list[np.ndarray]:
    """A ping-pong triptych of three steps: A | morph | B, four frames."""
    return list(interpolation_frames(clouds, input_a=clouds[0], input_b=clouds[-1],
                                     layout="triptych", size=SIZE, pingpong=True))


def test_playback_order_plays_ping_pong_without_repeating_the_ends() -> None:
    assert playback_order(4) == [0, 1, 2, 3]
    assert playback_order(4, pingpong=True) == [0, 1, 2, 3, 2, 1]
    assert playback_order(2, pingpong=True) == [0, 1]
    assert all(len(playback_order(n, True)) == 2 * n - 2 for n in range(2, 9))
    assert animation_size("single", 64) == (64, 64) and animation_size("triptych", 64) == (192, 64)
    with pytest.raises(ValueError, match="layout"):
        animation_size("grid", 64)


def test_single_layout_shows_the_morph_in_green(clouds: np.ndarray) -> None:
    frames = interpolation_frames(clouds, layout="single", size=SIZE)
    images = list(frames)
    assert len(images) == 3 and all(image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8 for image in images)
    assert all(mostly_green(image) for image in images)
    assert all(not np.array_equal(images[k], images[k + 1]) for k in range(2))


def test_triptych_puts_grey_inputs_beside_the_green_morph(triptych: list[np.ndarray]) -> None:
    assert len(triptych) == 4 and all(image.shape == (SIZE, 3 * SIZE, 3) for image in triptych)
    for image in triptych:
        left, middle, right = image[:, :SIZE], image[:, SIZE : 2 * SIZE], image[:, 2 * SIZE :]
        assert only_grey(left) and mostly_green(middle) and only_grey(right)
    # Still side panels are drawn once; the morph goes 0, 1, 2 and back to 1.
    assert all(np.array_equal(image[:, :SIZE], triptych[0][:, :SIZE]) for image in triptych)
    middles = [image[:, SIZE : 2 * SIZE] for image in triptych]
    assert not np.array_equal(middles[0], middles[1]) and not np.array_equal(middles[1], middles[2])
    body = slice(SIZE // 5, None)  # below the title, which says t = 0.50 both times
    assert np.array_equal(middles[1][body], middles[3][body])


def test_orbit_turns_every_panel_even_when_the_shape_stands_still(clouds: np.ndarray) -> None:
    still = np.stack([clouds[0]] * 3)
    # Inputs with other point counts than the decoded clouds, as when they come from files.
    images = list(interpolation_frames(still, ts=[0.5] * 3, input_a=box((1.0, 1.0, 0.4), n=500),
                                       input_b=box((0.4, 1.0, 1.0), n=123), layout="triptych", size=SIZE,
                                       orbit=True, up="z"))
    assert len(images) == 3
    for k in range(2):
        for panel in range(3):
            columns = slice(panel * SIZE, (panel + 1) * SIZE)
            assert not np.array_equal(images[k][:, columns], images[k + 1][:, columns]), (k, panel)


def read_gif(path: Path) -> tuple[np.ndarray, list[int], int | None]:
    with Image.open(path) as gif:
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
        loop = gif.info.get("loop")
    return iio.imread(path, index=None)[..., :3], durations, loop


def test_gif_keeps_every_frame_its_colours_and_the_timing(tmp_path: Path, triptych: list[np.ndarray]) -> None:
    # Repeated frames in a row are where writers collapse a GIF: each must stay a frame of its own.
    sequence = [triptych[0], triptych[0], triptych[1], triptych[2], triptych[2], triptych[2], triptych[3]]
    with open_animation_writer(tmp_path / "clip.gif", fps=10) as writer:
        assert isinstance(writer, GifWriter)
        for image in sequence:
            writer.append(image)
        path = writer.commit()
    assert path == tmp_path / "clip.gif" and sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]
    frames, durations, loop = read_gif(path)
    assert frames.shape == (7, SIZE, 3 * SIZE, 3)
    assert loop == 0, "loops forever"
    assert durations == [100] * 7
    for read, written in zip(frames, sequence):
        assert np.abs(read.astype(int) - written).max() <= 24, "one global palette keeps every colour close"
        assert only_grey(read[:, :SIZE]) and mostly_green(read[:, SIZE : 2 * SIZE]) and only_grey(read[:, 2 * SIZE :])
    assert np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[1], frames[2])
    assert path.stat().st_size < 0.25 * 7 * frames[0].size, "compressed, and unchanged areas are not stored again"


def test_gif_delays_add_up_to_the_clip_length(tmp_path: Path, clouds: np.ndarray) -> None:
    assert gif_delays(6, 30) == [3, 4, 3, 3, 4, 3]
    assert gif_delays(3, 7) == [14, 15, 14] and sum(gif_delays(7, 7)) == 100
    image = np.full((20, 30, 3), 255, np.uint8)
    with GifWriter(tmp_path / "fast.gif", fps=30) as writer:
        for _ in range(6):
            writer.append(image)  # six identical frames: all six must survive
        writer.commit()
    frames, durations, _ = read_gif(tmp_path / "fast.gif")
    assert len(frames) == 6 and durations == [30, 40, 30, 30, 40, 30]


def test_mp4_is_h264_with_every_frame_and_even_sizes(tmp_path: Path, triptych: list[np.ndarray]) -> None:
    import imageio.v2 as iio2
    import imageio_ffmpeg

    odd = [image[:-1, :-3] for image in triptych]  # 95 x 285: yuv420p needs even sizes
    with open_animation_writer(tmp_path / "clip.mp4", fps=12) as writer:
        assert isinstance(writer, Mp4Writer)
        for image in odd:
            writer.append(image)
        writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "clip.mp4"))[0] == 4
    reader = iio2.get_reader(tmp_path / "clip.mp4", "ffmpeg")
    try:
        meta = reader.get_meta_data()
        assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p") and meta["fps"] == 12
        assert meta["size"] == (286, 96)
        first = reader.get_data(0)
    finally:
        reader.close()
    assert only_grey(first[:, :SIZE]) and mostly_green(first[:, SIZE : 2 * SIZE])


def test_unknown_suffix_and_impossible_rates_are_option_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=r"clip\.avi: unknown animation format"):
        open_animation_writer(tmp_path / "clip.avi", fps=10)
    with pytest.raises(OptionError, match="no suffix"):
        open_animation_writer(tmp_path / "clip", fps=10)
    with pytest.raises(OptionError, match="--fps 60"):
        open_animation_writer(tmp_path / "clip.gif", fps=60)
    with pytest.raises(OptionError, match="--fps 0"):
        open_animation_writer(tmp_path / "clip.mp4", fps=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_unwritable_targets_are_option_errors_that_leave_nothing(tmp_path: Path, suffix: str) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match=f"file/inside{suffix}: cannot write"):
        open_animation_writer(tmp_path / "file" / f"inside{suffix}", fps=10)
    (tmp_path / f"folder{suffix}").mkdir()
    with pytest.raises(OptionError, match="cannot write: Is a directory"):
        open_animation_writer(tmp_path / f"folder{suffix}", fps=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", f"folder{suffix}"]


def test_a_full_disk_is_an_option_error_and_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "clip.gif"
    target.write_bytes(b"the old animation")

    class FullDisk:
        def __init__(self, path: Path, mode: str) -> None:
            self.file = open(path, mode)

        def write(self, data: bytes) -> int:
            if self.file.tell() + len(data) > 2000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.file.write(data)

        def __getattr__(self, name: str):
            return getattr(self.file, name)

    monkeypatch.setattr(writers, "open", FullDisk, raising=False)
    noise = np.random.default_rng(0).integers(0, 255, size=(64, 64, 3), dtype=np.uint8)
    writer = GifWriter(target, fps=10)
    with pytest.raises(OptionError, match=r"clip\.gif: cannot write: No space left on device"):
        for _ in range(5):
            writer.append(noise)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]
    assert target.read_bytes() == b"the old animation"


def test_leaving_without_commit_writes_nothing(tmp_path: Path) -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    with GifWriter(tmp_path / "a.gif", fps=10) as writer:
        writer.append(image)
        assert writer.temp_path.exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="boom"):
        with Mp4Writer(tmp_path / "b.mp4", fps=10) as writer:
            writer.append(image)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with GifWriter(tmp_path / "c.gif", fps=10) as writer:
        with pytest.raises(ValueError, match="the first was"):
            writer.append(image)
            writer.append(np.zeros((8, 16, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
