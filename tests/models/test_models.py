"""Every registered model: the same smoke, feature, gradient and round-trip checks (kornia style)."""

from __future__ import annotations

import pytest
import torch

from antseg.errors import AntsegInputError
from antseg.models import CheckpointMeta, create_model, list_models, load_model, model_defaults, save_checkpoint

TINY = {
    "unet": {"encoder": "resnet18", "decoder_channels": (16, 8, 8, 8, 8)},
    "unet-lite": {"channels": (4, 8, 16), "num_res_units": 1},
    "pspnet": {"encoder": "resnet18", "encoder_depth": 3},
    "transresunet": {"encoder": "resnet18", "dim": 32, "layers": 1, "heads": 2, "decoder_channels": (16, 16, 8, 8)},
    "ensemble": {"member": "unet-lite", "members": 2, "member_args": {"channels": (4, 8, 16), "num_res_units": 1}},
}


def test_all_models_are_covered_here():
    assert sorted(TINY) == list_models()


class _ModelChecks:
    name = ""

    def make(self, in_channels=1, classes=3):
        torch.manual_seed(0)
        return create_model(self.name, in_channels=in_channels, classes=classes, **TINY[self.name])

    @pytest.mark.parametrize("in_channels", [1, 3])
    def test_forward_shape_odd_sizes(self, in_channels):
        m = self.make(in_channels).eval()
        for h, w in ((64, 96), (37, 101)):
            y = m(torch.randn(2, in_channels, h, w))
            assert y.shape == (2, 3, h, w) and torch.isfinite(y).all()

    def test_gradients_reach_every_parameter(self):
        m = self.make().train()
        m(torch.randn(2, 1, 64, 64)).square().mean().backward()
        missing = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
        assert not missing, missing

    def test_save_load_round_trip(self, tmp_path):
        m = self.make().eval()
        x = torch.randn(1, 1, 48, 80)
        save_checkpoint(tmp_path / "m.pt", m, CheckpointMeta(structures=["a", "b", "c"]))
        back, meta = load_model(tmp_path / "m.pt")
        assert meta.structures == ["a", "b", "c"]
        assert torch.allclose(back(x), m(x), atol=1e-6)
        assert back.antseg_spec == m.antseg_spec


class TestUNet(_ModelChecks):
    name = "unet"


class TestUNetLite(_ModelChecks):
    name = "unet-lite"


class TestPSPNet(_ModelChecks):
    name = "pspnet"


class TestTransResUNet(_ModelChecks):
    name = "transresunet"


class TestEnsemble(_ModelChecks):
    name = "ensemble"


def test_create_model_errors_and_none_dropping():
    with pytest.raises(AntsegInputError, match="valid: ensemble, pspnet, transresunet, unet, unet-lite"):
        create_model("segformer")
    with pytest.raises(AntsegInputError, match="no argument"):
        create_model("unet", wings=2)
    m = create_model("unet-lite", channels=None, classes=2)  # None never overrides the default
    assert m.antseg_spec["kwargs"]["channels"] == list(model_defaults("unet-lite")["channels"])


def test_local_encoder_weights(tmp_path):
    src = create_model("unet", **TINY["unet"])
    torch.save(src.net.encoder.state_dict(), tmp_path / "enc.pth")
    m = create_model("unet", encoder_weights=str(tmp_path / "enc.pth"), **TINY["unet"])
    for k, v in src.net.encoder.state_dict().items():
        assert torch.equal(v, m.net.encoder.state_dict()[k])
    with pytest.raises(AntsegInputError, match="not found"):
        create_model("unet", encoder_weights=str(tmp_path / "none.pth"), **TINY["unet"])
