"""Canonical dataset <-> nnU-Net v2 raw dataset (2D natural-image PNG I/O), with exact overlapping structures.

nnU-Net labels are exclusive (one id per pixel) but canonical structures overlap (the nucleus lies inside the
lens). The scheme here is exact: every distinct *combination* of structures present at a pixel becomes one
label id (id 0 = no structure), and every canonical structure is a *region* = the list of label ids whose
combination contains it. nnU-Net trains such regions with one sigmoid output each (region-based training), so
a prediction decodes back to canonical masks channel by channel; a label map decodes through the table.

Also here: :func:`nnunet_env`, nnU-Net's three folders as environment variables for the duration of a call.
This module needs numpy and antseg only (no nnunetv2), so it is importable and testable without the extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from antseg.data import load_dataset
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.images import read_mask_png, write_png

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_STRUCTURES = 62  # bit codes are int64
ENV_DIRS = {"nnUNet_raw": "raw", "nnUNet_preprocessed": "preprocessed", "nnUNet_results": "results"}


@dataclass(frozen=True)
class LabelTable:
    """The combination table: label id -> set of structures, as bit codes.

    Attributes:
        structures: canonical structure names; structure k is bit k of a code.
        codes: ``codes[label_id]`` = bit code of the structures present; ``codes[0] == 0`` (background).
    """

    structures: tuple[str, ...]
    codes: tuple[int, ...]

    def members(self, label_id: int) -> list[str]:
        """Names of the structures that make up label ``label_id``."""
        return [s for k, s in enumerate(self.structures) if self.codes[label_id] >> k & 1]

    def region(self, structure: str) -> list[int]:
        """Label ids whose combination contains ``structure`` (empty when it never occurs)."""
        k = self.structures.index(structure)
        return [i for i, c in enumerate(self.codes) if c >> k & 1]

    @property
    def has_overlaps(self) -> bool:
        """True when some label id stands for two or more structures."""
        return any(bin(c).count("1") > 1 for c in self.codes)

    def to_json(self) -> dict:
        return {"structures": list(self.structures), "codes": list(self.codes)}

    @classmethod
    def from_json(cls, d: dict) -> LabelTable:
        return cls(tuple(d["structures"]), tuple(int(c) for c in d["codes"]))


def combination_codes(masks: np.ndarray) -> np.ndarray:
    """Per-pixel bit code of the structures present.

    Args:
        masks: (N, H, W) binary masks, N <= 62.
    Returns:
        (H, W) int64; bit k set where ``masks[k]`` is non-zero.
    """
    if masks.ndim != 3 or masks.shape[0] > MAX_STRUCTURES:
        raise AntsegInputError(None, f"masks must be (N, H, W) with N <= {MAX_STRUCTURES}, got {masks.shape}")
    codes = np.zeros(masks.shape[1:], np.int64)
    for k in range(masks.shape[0]):
        codes |= (masks[k] != 0).astype(np.int64) << k
    return codes


def build_table(structures: list[str] | tuple[str, ...], codes: set[int] | list[int]) -> LabelTable:
    """A table over the given bit codes: background first, then by number of structures, then by code."""
    rest = sorted({int(c) for c in codes} - {0}, key=lambda c: (bin(c).count("1"), c))
    if len(rest) >= 65535:
        raise AntsegInputError(None, f"{len(rest)} structure combinations do not fit a 16-bit label map")
    return LabelTable(tuple(structures), (0, *rest))


def encode_masks(
    masks: np.ndarray, table: LabelTable | None = None, structures: list[str] | None = None
) -> tuple[np.ndarray, LabelTable]:
    """Overlapping masks -> exclusive label map.

    Args:
        masks: (N, H, W) binary masks in ``table.structures`` order.
        table: the table to use; None builds one from the combinations present in ``masks``.
        structures: names for a new table (default ``s0, s1, ...``); ignored when ``table`` is given.
    Returns:
        (label_map, table): label_map (H, W) uint8 (uint16 beyond 256 labels).
    Raises:
        AntsegInputError: a pixel holds a combination that ``table`` lacks, or N does not match the table.
    """
    codes = combination_codes(masks)
    if table is None:
        table = build_table(structures or [f"s{k}" for k in range(masks.shape[0])], set(np.unique(codes).tolist()))
    elif masks.shape[0] != len(table.structures):
        raise AntsegInputError(None, f"{masks.shape[0]} masks for a table of {len(table.structures)} structures")
    known = np.asarray(table.codes, np.int64)
    order = np.argsort(known)
    pos = np.clip(np.searchsorted(known[order], codes), 0, len(known) - 1)
    ids = order[pos]
    if not np.array_equal(known[ids], codes):
        bad = sorted(set(np.unique(codes).tolist()) - set(table.codes))
        raise AntsegInputError(None, f"structure combination(s) {bad} not in the label table")
    return ids.astype(np.uint8 if len(known) <= 256 else np.uint16), table


def decode_labels(label_map: np.ndarray, table: LabelTable) -> np.ndarray:
    """Exclusive label map -> overlapping masks (inverse of :func:`encode_masks`).

    Args:
        label_map: (H, W) integer label ids < ``len(table.codes)``.
    Returns:
        (N, H, W) uint8 {0, 1} in ``table.structures`` order.
    """
    if label_map.size and int(label_map.max()) >= len(table.codes):
        raise AntsegInputError(None, f"label {int(label_map.max())} not in the label table")
    n = len(table.structures)
    lut = ((np.asarray(table.codes, np.int64)[:, None] >> np.arange(n)) & 1).astype(np.uint8)  # (L, N)
    return np.ascontiguousarray(np.moveaxis(lut[label_map.astype(np.intp)], -1, 0))


def nnunet_labels(table: LabelTable) -> tuple[dict, list[int] | None]:
    """The ``labels`` (and ``regions_class_order``) entries of nnU-Net's ``dataset.json`` for a table.

    With overlaps: one region per structure that occurs (regions_class_order gives each region's most specific
    label, used only by nnU-Net's own label-map export). Without: plain labels, one per combination.
    """
    if not table.has_overlaps:
        labels = {"background": 0}
        labels.update({"+".join(table.members(i)): i for i in range(1, len(table.codes))})
        return labels, None
    labels, order = {"background": 0}, []
    for s in table.structures:
        reg = table.region(s)
        if reg:
            labels[s] = reg
            order.append(min(reg, key=lambda i: (bin(table.codes[i]).count("1"), i)))
    return labels, order


@dataclass
class RawExport:
    """What :func:`export_raw` wrote: the dataset folder, its name, the label table and the cases per split."""

    folder: Path
    name: str
    table: LabelTable
    splits: dict[str, list[str]]


def export_raw(
    dataset: str | Path,
    raw_root: str | Path,
    dataset_id: int = 501,
    name: str = "antseg",
    splits: tuple[str, ...] = ("train", "val"),
) -> RawExport:
    """Write the ``splits`` cases of a canonical dataset as ``<raw_root>/Dataset<id>_<name>`` (replaced atomically).

    Writes ``imagesTr/<case>_0000.png`` (grey), ``labelsTr/<case>.png`` (combination label ids) and
    ``dataset.json`` (``file_ending: .png``, labels/regions, plus an ``antseg`` block holding the label table
    and the split of each case). Other splits (``test``) are never written.

    Raises:
        AntsegInputError: no case in ``splits``, an unsafe case id, a bad dataset id or too many structures.
    """
    if not 1 <= dataset_id <= 999:
        raise AntsegInputError(None, f"nnU-Net dataset id must be 1..999, got {dataset_id}")
    ds = load_dataset(dataset)
    cases = [c for c in ds.cases if c.split in splits]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases in split(s) {', '.join(splits)} (split the dataset first)")
    for c in cases:
        if not _SAFE_ID.match(c.case_id):
            raise AntsegInputError(ds.root, f"case id {c.case_id!r} is not usable as an nnU-Net file name")
    seen: set[int] = set()
    for c in cases:  # pass 1: the combinations that occur
        seen |= set(np.unique(combination_codes(ds.load_masks(c))).tolist())
    table = build_table(ds.structures, seen)
    folder_name = f"Dataset{dataset_id:03d}_{name}"
    out = Path(raw_root) / folder_name
    with atomic_dir(out, overwrite=True, internal=True) as tmp:
        (tmp / "imagesTr").mkdir()
        (tmp / "labelsTr").mkdir()
        for c in cases:  # pass 2: images and label maps
            write_png(tmp / "imagesTr" / f"{c.case_id}_0000.png", ds.load_image(c, grayscale=True))
            write_png(tmp / "labelsTr" / f"{c.case_id}.png", encode_masks(ds.load_masks(c), table)[0])
        labels, order = nnunet_labels(table)
        doc = {
            "name": name,
            "channel_names": {"0": "zscore"},
            "labels": labels,
            **({"regions_class_order": order} if order is not None else {}),
            "numTraining": len(cases),
            "file_ending": ".png",
            "antseg": {**table.to_json(), "source": str(ds.root), "splits": {c.case_id: c.split for c in cases}},
        }
        atomic_write_text(tmp / "dataset.json", json.dumps(doc, indent=2) + "\n")
    by_split = {s: [c.case_id for c in cases if c.split == s] for s in splits}
    return RawExport(out, folder_name, table, by_split)


def read_raw(folder: str | Path) -> tuple[LabelTable, dict[str, np.ndarray]]:
    """Read a raw dataset written by :func:`export_raw` back to canonical masks.

    Returns:
        (table, case id -> (N, H, W) uint8 masks in ``table.structures`` order).
    """
    folder = Path(folder)
    try:
        doc = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
        table = LabelTable.from_json(doc["antseg"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AntsegInputError(folder / "dataset.json", f"not an antseg nnU-Net export ({exc})") from None
    ending = doc.get("file_ending", ".png")
    out = {}
    for p in sorted((folder / "labelsTr").glob(f"*{ending}")):
        out[p.name[: -len(ending)]] = decode_labels(read_mask_png(p), table)
    return table, out


def _import_time_paths(values: dict[str, str | None]) -> list[tuple[Any, str, Any]]:
    """Older nnunetv2 releases read the folders once, at import, into module strings: point those at ``values``.

    nnunetv2 >= 2.8 keeps lazy objects that read the environment at each use (nothing to do). Returns the
    (module, attribute, old value) triples to restore.
    """
    paths = sys.modules.get("nnunetv2.paths")
    if paths is None or not isinstance(getattr(paths, "nnUNet_raw", ""), str | type(None)):
        return []
    saved = []
    for name, mod in list(sys.modules.items()):
        if name == "nnunetv2" or name.startswith("nnunetv2."):
            for key, val in values.items():
                if isinstance(getattr(mod, key, 0), str | type(None)) and hasattr(mod, key):
                    saved.append((mod, key, getattr(mod, key)))
                    setattr(mod, key, val)
    return saved


@contextlib.contextmanager
def nnunet_env(work: str | Path, **extra: str | None) -> Iterator[dict[str, str | None]]:
    """Point nnU-Net at ``<work>/{raw,preprocessed,results}`` for the duration of the block.

    Args:
        work: the work folder (made absolute).
        extra: more variables to set (None: unset), e.g. ``nnUNet_n_proc_DA="0"``.
    Yields:
        the variables set. On exit the user's own values (or their absence) are restored.
    """
    work = Path(work).resolve()
    values: dict[str, str | None] = {k: str(work / v) for k, v in ENV_DIRS.items()} | extra
    before = {k: os.environ.get(k) for k in values}
    patched: list[tuple[Any, str, Any]] = []
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        patched = _import_time_paths(values)
        yield values
    finally:
        for mod, key, old in reversed(patched):
            setattr(mod, key, old)
        for k, old in before.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old
