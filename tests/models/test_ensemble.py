"""The ``ensemble`` model: the exact mean of its members, built from trained members, and its refusals."""

from __future__ import annotations

import pytest
import torch

from antseg.errors import AntsegInputError
from antseg.models import CheckpointMeta, create_model, load_model, save_checkpoint
from antseg.models.ensemble import ensemble_of


def _member(seed: int, channels=(4, 8, 16)):
    torch.manual_seed(seed)
    return create_model("unet-lite", in_channels=1, classes=3, channels=channels, num_res_units=1).eval()


def test_the_output_is_the_mean_of_the_members_logits():
    a, b, c = _member(0), _member(1), _member(2)
    ens = ensemble_of([a, b, c]).eval()
    x = torch.randn(2, 1, 40, 72)
    with torch.no_grad():
        expect = (a(x) + b(x) + c(x)) / 3
        assert torch.allclose(ens(x), expect, atol=1e-6)
        assert not torch.allclose(a(x), b(x))  # the members differ, so the mean is not one of them
    spec = ens.antseg_spec
    assert spec["name"] == "ensemble" and spec["kwargs"]["members"] == 3 and spec["kwargs"]["member"] == "unet-lite"
    assert spec["kwargs"]["member_args"]["channels"] == [4, 8, 16] and spec["kwargs"]["classes"] == 3


def test_one_member_is_that_member():
    a = _member(0)
    x = torch.randn(1, 1, 32, 64)
    with torch.no_grad():
        assert torch.equal(ensemble_of([a]).eval()(x), a(x))


def test_a_saved_ensemble_loads_back_the_same(tmp_path):
    ens = ensemble_of([_member(0), _member(1)]).eval()
    path = save_checkpoint(tmp_path / "e.pt", ens, CheckpointMeta(structures=["a", "b", "c"]))
    back, _ = load_model(path)
    x = torch.randn(1, 1, 32, 64)
    with torch.no_grad():
        assert torch.equal(back(x), ens(x))


def test_members_of_other_architectures_or_arguments_are_refused():
    with pytest.raises(ValueError, match="share one architecture"):
        ensemble_of([_member(0), _member(1, channels=(4, 8))])
    with pytest.raises(ValueError, match="at least one member"):
        ensemble_of([])
    with pytest.raises(AntsegInputError, match="at least one member"):  # bad model arguments: a one-line error
        create_model("ensemble", members=0)
    with pytest.raises(AntsegInputError, match="cannot be ensembles"):
        create_model("ensemble", member="ensemble")
    with pytest.raises(AntsegInputError, match="valid: .*unet-lite"):
        create_model("ensemble", member="segformer")
