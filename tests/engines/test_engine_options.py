"""Every external engine's options are a typed dataclass loaded by :func:`antseg.config.load_options`: the same
contract for each (defaults, coercion of command-line text, unknown keys and bad values named)."""

from __future__ import annotations

import dataclasses

import pytest

from antseg.config import load_options
from antseg.engines.medsam import MedsamOptions
from antseg.engines.nnunet import NnunetOptions
from antseg.engines.yolo_pose import YoloPoseOptions
from antseg.errors import AntsegInputError

#: (options class, engine name, {key: command-line text}, {key: the typed value}, (key, bad text, message)).
CASES = [
    (NnunetOptions, "nnunet", {"dataset_id": "12", "mirroring": "false", "fold": "0"},
     {"dataset_id": 12, "mirroring": False, "fold_index": 0}, ("processes", "0", ">= 1")),
    (MedsamOptions, "medsam", {"lr": "1e-3", "batch_size": "2", "tune_encoder": "true"},
     {"lr": 1e-3, "batch_size": 2, "tune_encoder": True}, ("lr", "-1", "positive")),
    (YoloPoseOptions, "yolo11-pose", {"imgsz": "320", "conf": "0.5"}, {"imgsz": 320, "conf": 0.5},
     ("kpt_conf", "2", "<= 1")),
]  # fmt: skip


@pytest.mark.parametrize("cls, engine, given, typed, bad", CASES, ids=[c[1] for c in CASES])
def test_engine_options_contract(cls, engine, given, typed, bad):
    assert dataclasses.is_dataclass(cls) and load_options(cls, {}, engine) == cls()
    opts = load_options(cls, given, engine)
    assert {k: getattr(opts, k) for k in typed} == typed
    with pytest.raises(AntsegInputError, match=f"unknown {engine} option\\(s\\) nope; valid: "):
        load_options(cls, {"nope": 1}, engine)
    key, text, message = bad
    with pytest.raises(AntsegInputError, match=f"--option {engine}.{key}.*{message}"):
        load_options(cls, {key: text}, engine)
