"""ShapeNet's public point-cloud layouts: synset ids shown by name, and Point-BERT's ShapeNet-55/34 lists.

ShapeNetCore v2 names its 55 categories by WordNet synset ids (``03001627`` is
chair). Folders named by synset (PointFlow's ``ShapeNetCore.v2.PC15k/<synset>/
{train,val,test}/<model>.npy``) show their classes by name, the id kept beside
it (:attr:`~vaeviewer.data.dataset.ShapeSet.class_ids`). Point-BERT's
``ShapeNet55-34`` keeps every cloud in one folder, ``shapenet_pc/<synset>-<model>.npy``
(8,192 points), and its splits in list files, ``ShapeNet-55/{train,test}.txt``
(ShapeNet-34's lists beside them become the splits ``34-train``, ``34-test``
and ``34-unseen``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from vaeviewer.data.dataset import ShapeSet
from vaeviewer.data.file_tree import FileTreeSplit
from vaeviewer.errors import DataFileError

__all__ = ["SYNSETS", "ShapeNet55Set", "is_shapenet55_folder", "is_synset", "synset_name"]

#: ShapeNetCore v2's 55 categories: synset id -> name.
SYNSETS = {
    "02691156": "airplane", "02747177": "trash_bin", "02773838": "bag", "02801938": "basket", "02808440": "bathtub",
    "02818832": "bed", "02828884": "bench", "02843684": "birdhouse", "02871439": "bookshelf", "02876657": "bottle",
    "02880940": "bowl", "02924116": "bus", "02933112": "cabinet", "02942699": "camera", "02946921": "can",
    "02954340": "cap", "02958343": "car", "02992529": "cellphone", "03001627": "chair", "03046257": "clock",
    "03085013": "keyboard", "03207941": "dishwasher", "03211117": "display", "03261776": "earphone",
    "03325088": "faucet", "03337140": "file_cabinet", "03467517": "guitar", "03513137": "helmet", "03593526": "jar",
    "03624134": "knife", "03636649": "lamp", "03642806": "laptop", "03691459": "loudspeaker", "03710193": "mailbox",
    "03759954": "microphone", "03761084": "microwave", "03790512": "motorbike", "03797390": "mug", "03928116": "piano",
    "03938244": "pillow", "03948459": "pistol", "03991062": "flowerpot", "04004475": "printer",
    "04074963": "remote_control", "04090263": "rifle", "04099429": "rocket", "04225987": "skateboard",
    "04256520": "sofa", "04330267": "stove", "04379243": "table", "04401088": "telephone", "04460130": "tower",
    "04468005": "train", "04530566": "watercraft", "04554684": "washer",
}

_SYNSET = re.compile(r"^\d{8}$")


def is_synset(name: str) -> bool:
    """Whether ``name`` is a ShapeNet synset id (eight digits)."""
    return bool(_SYNSET.match(name))


def synset_name(synset: str) -> str:
    """The category of a synset id; an id ShapeNetCore does not list stays as it is."""
    return SYNSETS.get(synset, synset)


def is_shapenet55_folder(folder: Path) -> bool:
    """Whether ``folder`` is Point-BERT's ``ShapeNet55-34`` (a ``shapenet_pc`` folder and a ``ShapeNet-55`` list)."""
    return (folder / "shapenet_pc").is_dir() and (folder / "ShapeNet-55" / "train.txt").is_file()


class ShapeNet55Set(ShapeSet):
    """Point-BERT's ShapeNet-55 (and ShapeNet-34) benchmark: clouds in ``shapenet_pc``, splits in list files.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``ShapeNet55-34`` folder.

    Raises
    ------
    DataFileError
        When a list is unreadable or names a cloud that is not there.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = "shapenet-55"
        self.warnings: list[str] = []
        clouds = self.path / "shapenet_pc"
        lists = {"train": self.path / "ShapeNet-55" / "train.txt", "test": self.path / "ShapeNet-55" / "test.txt"}
        for name in ("train", "test", "unseen"):
            candidate = self.path / "ShapeNet-34" / f"{name}.txt"
            if candidate.is_file():
                lists[f"34-{name}"] = candidate
        entries = {split: self._read_list(list_file) for split, list_file in lists.items() if list_file.is_file()}
        synsets = sorted({entry.split("-", 1)[0] for listed in entries.values() for entry in listed})
        self.class_ids = {synset_name(synset): synset for synset in synsets}
        self.class_names = tuple(self.class_ids)
        label_of = {synset: k for k, synset in enumerate(synsets)}
        self._splits = {}
        for split, listed in entries.items():
            files = [clouds / entry for entry in listed]
            missing = next((file for file in files if not file.is_file()), None)
            if missing is not None:
                raise DataFileError(lists[split], f"lists {missing.name}, which is not in {clouds}")
            labels = np.array([label_of[entry.split("-", 1)[0]] for entry in listed], dtype=np.int64)
            self._splits[split] = FileTreeSplit(split, self.class_names, files, labels, clouds, self.warnings)

    @staticmethod
    def _read_list(path: Path) -> list[str]:
        try:
            lines = path.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError) as error:
            raise DataFileError(path, f"cannot read the list: {getattr(error, 'strerror', None) or error}") from None
        bad = next((line for line in lines if "-" not in line or not line.lower().endswith(".npy")), None)
        if bad is not None:
            raise DataFileError(path, f"{bad[:40]!r} is not <synset>-<model>.npy")
        return lines
