"""``AdaptConfig``: every field is checked where it is made, and a budget of 0 means no limit."""

from __future__ import annotations

import math
import re

import pytest

from antseg.adaptation.config import AdaptConfig, train_budget
from antseg.config import load_config
from antseg.errors import AntsegInputError


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        ("budget_s", -1, "budget_s (--budget) must be >= 0"),
        ("budget_s", math.nan, "budget_s (--budget) must be a finite number"),
        ("rounds", -1, "rounds (--rounds)"),
        ("max_scans", 0, "max_scans"),
        ("min_accepted", 0, "min_accepted"),
        ("epochs", 0, "epochs"),
        ("spur_epochs", 0, "spur_epochs"),
        ("batch_size", 0, "batch_size"),
        ("rehearsal", -1, "rehearsal"),
        ("refine_steps", -2, "refine_steps"),
        ("seed", -1, "seed (--seed)"),
        ("threads", 1.5, "threads"),
        ("rehearsal_look", "sepia", "rehearsal_look must be one of histogram, none"),
        ("spurs", "maybe", "spurs (--adapt-spurs)"),
        ("spur_mirror_mm", -0.1, "spur_mirror_mm"),
        ("spur_limit_mm", math.inf, "spur_limit_mm"),
        ("lr", 0.0, "lr must be positive"),
        ("device", "gpu", "device (--device)"),
        ("spacing", (0.01, -1), "spacing"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(field, value, names):
    with pytest.raises(AntsegInputError, match=re.escape(names)):
        AdaptConfig(**{field: value})


def test_values_are_returned_in_their_checked_types():
    cfg = AdaptConfig(budget_s=0, rounds=0, spacing=0.02, device="CUDA", spur_mirror_mm=0)
    assert cfg.budget_s == 0.0 and cfg.rounds == 0 and cfg.spacing == (0.02, 0.02) and cfg.device == "cuda"
    assert cfg.spur_mirror_mm == 0.0  # 0: no spur is trusted


def test_a_yaml_value_out_of_range_is_refused(tmp_path):
    path = tmp_path / "adapt.yaml"
    path.write_text("epochs: 0\n")
    with pytest.raises(AntsegInputError, match="epochs must be a whole number >= 1"):
        load_config(AdaptConfig, path)


def test_a_budget_of_zero_is_no_limit():
    assert AdaptConfig(budget_s=0).limit_s == math.inf and AdaptConfig(budget_s=120).limit_s == 120.0
    assert train_budget(math.inf) == 0.0  # a training's 0: no time limit
    assert train_budget(0.2) == 1.0 and train_budget(45.0) == 45.0
