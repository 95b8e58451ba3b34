"""Fine-tuning from a model that segments more than the dataset labels keeps those structures."""

from __future__ import annotations

import shutil

import numpy as np
from tests.conftest import TINY_SEG

from antseg.data.canonical import load_dataset
from antseg.models import read_checkpoint
from antseg.training import TrainConfig, train_segmentation


def _without_lens(src, dst):
    """A copy of the phantom whose labels have no lens and no nucleus (like the real development eye's)."""
    shutil.copytree(src, dst)
    ds = load_dataset(dst)
    keep = [i for i, s in enumerate(ds.structures) if s not in ("lens", "nucleus")]
    masks = {c.case_id: ds.load_masks(c)[keep] for c in ds.cases}
    ds.manifest.structures = [s for s in ds.manifest.structures if s.name not in ("lens", "nucleus")]
    for k, st in enumerate(ds.manifest.structures):
        st.id = k + 1
    from antseg.data.canonical import write_mask

    for c in ds.cases:
        c.mask = write_mask(dst, c.case_id, masks[c.case_id])
    ds.save()
    return dst


def test_structures_the_labels_lack_are_kept_from_the_initial_model(split_phantom, tiny_run, tmp_path):
    data = _without_lens(split_phantom, tmp_path / "ds")
    assert load_dataset(data).structures == ["anterior_chamber", "left_iris", "right_iris", "cornea"]
    cfg = TrainConfig(epochs=1, **TINY_SEG, init=str(tiny_run))
    logs: list[str] = []
    train_segmentation(data, tmp_path / "kept", cfg, log=logs.append)
    kept = read_checkpoint(tmp_path / "kept" / "best.pt").meta.structures
    assert kept == ["anterior_chamber", "left_iris", "right_iris", "cornea", "lens", "nucleus"]
    assert any("keeping lens, nucleus" in line for line in logs)
    from dataclasses import replace

    train_segmentation(data, tmp_path / "dropped", replace(cfg, keep_init_structures=False), log=lambda s: None)
    assert read_checkpoint(tmp_path / "dropped" / "best.pt").meta.structures == kept[:4]


def test_the_teacher_masks_are_the_initial_models_own(split_phantom, tiny_run, tmp_path):
    from antseg.training.trainer import Trainer

    data = _without_lens(split_phantom, tmp_path / "ds")
    t = Trainer(data, tmp_path / "run", TrainConfig(epochs=1, **TINY_SEG, init=str(tiny_run)), log=lambda s: None)
    assert t.channels[-2:] == ["lens", "nucleus"] and t.train.masks.shape[1] == 6
    from antseg.inference.predictor import Predictor

    pred = Predictor(tiny_run, "cpu")  # the same network on the same letterboxed input
    ck = read_checkpoint(tiny_run / "best.pt")
    net = ck.build("cpu")
    import torch

    with torch.no_grad():
        logits = net(t.train.images[:1])
    lens = pred.structures.index("lens")
    from antseg.preprocessing import gate_sides, side_channels

    logits = gate_sides(logits, side_channels(pred.structures), t.train.inner_w[:1])
    want = (torch.sigmoid(logits[0, lens]) > pred.threshold).numpy()
    np.testing.assert_array_equal(t.train.masks[0, 4].numpy() > 0.5, want)
