"""The original work's checkpoints open as vaeviewer models and compute what the original network computes.

The network below is the original's ``Model.py`` (github.com/Suraj-000/Variational_Autoencoder_pytorch),
written again with its module names and shapes; the file is saved as its ``train_cls.py`` saves it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaeviewer.data.geometry import normalize_unit_sphere
from vaeviewer.errors import CheckpointError
from vaeviewer.model import build_model, load_checkpoint


class OriginalEncoder(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 64, kernel_size=1, stride=1)
        self.conv2 = nn.Conv1d(64, 64, kernel_size=1, stride=1)
        self.conv3 = nn.Conv1d(64, 64, kernel_size=1, stride=1)
        self.conv4 = nn.Conv1d(64, 128, kernel_size=1, stride=1)
        self.conv5 = nn.Conv1d(128, 1024, kernel_size=1, stride=1)
        self.bn1 = nn.BatchNorm1d(64)
        self.bn2 = nn.BatchNorm1d(64)
        self.bn3 = nn.BatchNorm1d(64)
        self.bn4 = nn.BatchNorm1d(128)
        self.bn5 = nn.BatchNorm1d(1024)
        self.fc_mean = nn.Linear(1024, latent_dim)
        self.fc_logvar = nn.Linear(1024, latent_dim)

    def forward(self, pc):
        feat = F.relu(self.bn1(self.conv1(pc)))
        feat = F.relu(self.bn2(self.conv2(feat)))
        feat = F.relu(self.bn3(self.conv3(feat)))
        feat = F.relu(self.bn4(self.conv4(feat)))
        feat = F.relu(self.bn5(self.conv5(feat)))
        x, _ = feat.max(dim=2, keepdim=False)
        return self.fc_mean(x), self.fc_logvar(x)


class OriginalDecoder(nn.Module):
    def __init__(self, latent_dim=64, output_dim=1024):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 3 * output_dim),
        )

    def forward(self, x):
        return self.layers(x).view(-1, 3, 1024)


class OriginalVAE(nn.Module):
    def __init__(self, encoder, decoder, latent_dim=64):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim


def pc_normalize(pc):
    centroid = np.mean(pc, axis=0)
    pc = pc - centroid
    m = np.max(np.sqrt(np.sum(pc**2, axis=1)))
    return pc / m


@pytest.fixture(scope="module")
def original():
    """A trained-looking original network: its batch norms have seen data, so their statistics are not the defaults."""
    torch.manual_seed(0)
    model = OriginalVAE(OriginalEncoder(), OriginalDecoder())
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model.encoder(torch.randn(8, 3, 1024) * 0.4 + 0.1)
    return model.eval()


def _save_as_train_cls(model, path: Path, optimizer=None) -> Path:
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-4)
    state = {"epoch": 41, "Loss": 0.0123, "Recon_Loss": torch.tensor(0.0101), "KLD_Loss": torch.tensor(0.0022),
             "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}
    torch.save(state, path)
    return path


def _clouds() -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.stack([pc_normalize(rng.normal(size=(1024, 3)) * (0.3, 0.5, 0.2) + 2.0) for _ in range(4)])


def test_the_original_file_reconstructs_exactly_as_the_original_network(original, tmp_path):
    path = _save_as_train_cls(original, tmp_path / "best_model.pth")
    checkpoint = load_checkpoint(path)
    assert checkpoint.config.latent_dim == 64 and checkpoint.config.num_points == 1024
    assert checkpoint.config.decoder_widths == (128, 256, 512, 1024)
    assert checkpoint.epoch == 42 and checkpoint.extra["Loss"] == pytest.approx(0.0123)
    model = build_model(checkpoint)
    clouds = _clouds()
    # vaeviewer's own normalisation is the original's pc_normalize.
    np.testing.assert_allclose(normalize_unit_sphere(clouds), clouds, atol=1e-6)
    x = torch.from_numpy(clouds).float()
    with torch.no_grad():
        mean, logvar = original.encoder(x.transpose(2, 1))
        decoded = original.decoder(mean).permute(0, 2, 1)  # (B, 3, N) -> (B, N, 3)
        our_mean, our_logvar = model.encode(x)
        ours = model.decode(our_mean)
    torch.testing.assert_close(our_mean, mean, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(our_logvar, logvar, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours, decoded, rtol=1e-5, atol=1e-5)


def test_a_bare_state_dict_opens_too_and_pack_converts_it(original, tmp_path):
    bare = tmp_path / "weights.pth"
    torch.save(original.state_dict(), bare)
    model = build_model(load_checkpoint(bare))
    converted = tmp_path / "converted.pt"
    result = subprocess.run([sys.executable, "-m", "vaeviewer", "pack", "--checkpoint", str(bare), "--out", str(converted)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    again = load_checkpoint(converted)
    assert again.config.decoder_widths == (128, 256, 512, 1024) and "imported_from" in again.extra
    z = torch.randn(3, 64)
    with torch.no_grad():
        torch.testing.assert_close(build_model(again).decode(z), model.decode(z))
        torch.testing.assert_close(model.decode(z), original.decoder(z).permute(0, 2, 1), rtol=1e-5, atol=1e-5)


def test_another_architecture_is_refused_in_one_line_naming_what_differs(original, tmp_path):
    state = dict(original.state_dict())
    state["encoder.conv2.weight"] = torch.zeros(32, 64, 1)
    torch.save({"epoch": 1, "model_state_dict": state}, tmp_path / "narrow.pth")
    with pytest.raises(CheckpointError, match=r"encoder\.conv2\.weight is \(32, 64, 1\)") as refused:
        load_checkpoint(tmp_path / "narrow.pth")
    assert "\n" not in str(refused.value) and "narrow.pth" in str(refused.value)

    state = dict(original.state_dict())
    state["classifier.fc1.weight"] = torch.zeros(10, 64)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(CheckpointError, match="classifier.fc1.weight"):
        load_checkpoint(tmp_path / "extra.pth")

    state = dict(original.state_dict())
    del state["encoder.bn5.running_var"]
    torch.save(state, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="no encoder.bn5.running_var"):
        load_checkpoint(tmp_path / "missing.pth")


def test_reconstruct_on_the_original_data_folder_saves_what_the_original_network_decodes(original, tmp_path):
    """The command a user of the original work runs: its checkpoint, its data folder, the cloud saved out."""
    folder = tmp_path / "chair_data"
    folder.mkdir()
    rng = np.random.default_rng(5)
    raw = rng.normal(size=(12, 1024, 3)) * (0.3, 0.5, 0.2) + 1.0
    np.save(folder / "data_train_48.npy", np.concatenate([raw] * 4).astype(np.float32))
    np.save(folder / "data_test_12.npy", raw.astype(np.float32))
    checkpoint = _save_as_train_cls(original, tmp_path / "best_model.pth")
    inspect = subprocess.run([sys.executable, "-m", "vaeviewer", "inspect", str(folder), "--json"],
                             capture_output=True, text=True, timeout=240)
    assert inspect.returncode == 0, inspect.stderr
    assert '"train": 48' in inspect.stdout and '"test": 12' in inspect.stdout
    for suffix in (".npy", ".ply"):
        out = tmp_path / f"recon{suffix}"
        result = subprocess.run(
            [sys.executable, "-m", "vaeviewer", "reconstruct", "--checkpoint", str(checkpoint), "--data", str(folder),
             "--split", "test", "--index", "7", "--save-cloud", str(out)], capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stderr
        from vaeviewer.data.shape_files import read_shape_file

        saved = read_shape_file(out).vertices
        with torch.no_grad():
            x = torch.from_numpy(pc_normalize(raw[7].astype(np.float32))).float()[None]
            expected = original.decoder(original.encoder(x.transpose(2, 1))[0]).permute(0, 2, 1)[0].numpy()
        np.testing.assert_allclose(saved, expected, atol=1e-4)
