"""Saving clouds: every format reads back as written, with its comment; errors name the file and keep the old one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vaeviewer.data.cloud_files import CLOUD_SUFFIXES, save_cloud
from vaeviewer.data.shape_files import read_shape_file
from vaeviewer.errors import DataFileError, OptionError


@pytest.mark.parametrize("suffix", CLOUD_SUFFIXES)
def test_every_format_reads_back_as_written(tmp_path: Path, suffix: str) -> None:
    cloud = (np.random.default_rng(0).normal(size=(300, 3)) * 0.4).astype(np.float32)
    path = save_cloud(tmp_path / f"recon{suffix}", cloud, comment="reconstruction of chair_0001\nframe: the model's")
    np.testing.assert_allclose(read_shape_file(path).vertices, cloud, rtol=1e-6, atol=1e-6)
    if suffix != ".npy":
        assert b"reconstruction of chair_0001" in path.read_bytes()[:400]
    else:
        assert np.load(path, allow_pickle=False).dtype == np.float32


def test_a_wrong_path_or_cloud_is_one_line_and_the_old_file_stays(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="unknown cloud format '.stl'"):
        save_cloud(tmp_path / "a.stl", np.zeros((3, 3)))
    old = save_cloud(tmp_path / "kept.ply", np.eye(3))
    before = old.read_bytes()
    with pytest.raises(DataFileError, match="NaN"):
        save_cloud(old, np.full((3, 3), np.nan))
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "sub").write_text("a file where a folder is needed")
    with pytest.raises(DataFileError, match="cannot write") as refused:
        save_cloud(tmp_path / "locked" / "sub" / "x.ply", np.eye(3))
    assert "x.ply" in str(refused.value) and "\n" not in str(refused.value)
    assert old.read_bytes() == before and [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
