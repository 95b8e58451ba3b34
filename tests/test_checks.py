"""``antseg.checks``: the one place numbers are checked, and the APIs that call it (configs, import options)."""

from __future__ import annotations

import math

import pytest

from antseg import checks
from antseg.config import load_config
from antseg.data.importers import ImportOptions
from antseg.errors import AntsegInputError
from antseg.training import TrainConfig

BAD_NUMBERS = [math.nan, math.inf, -math.inf, "nan", "inf", "one", None, True, [1.0]]


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_number_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(AntsegInputError, match="--x must be"):
        checks.number(value, "--x")


def test_number_ranges_and_text():
    assert checks.number(" 2.5 ", "v") == 2.5 and checks.number(3, "v") == 3.0
    with pytest.raises(AntsegInputError, match="v must be positive"):
        checks.positive(0, "v")
    with pytest.raises(AntsegInputError, match=">= 1"):
        checks.number(0.5, "v", minimum=1)
    with pytest.raises(AntsegInputError, match="<= 1"):
        checks.fraction(1.5, "v")
    with pytest.raises(AntsegInputError) as e:
        checks.number("x", "row 3: X1", path="t.csv")
    assert e.value.path == "t.csv" and "row 3: X1 must be a number" in e.value.problem


@pytest.mark.parametrize("value, ok", [(3, 3), (3.0, 3), ("7", 7), (2.5, None), (True, None), ("1e3", None)])
def test_integer(value, ok):
    if ok is None:
        with pytest.raises(AntsegInputError, match="whole number"):
            checks.integer(value, "n")
    else:
        assert checks.integer(value, "n") == ok


def test_spur_wall():
    assert checks.spur_wall(None) is None and checks.spur_wall("0") == 0.0 and checks.spur_wall(0.3) == 0.3
    with pytest.raises(AntsegInputError, match="--spur-wall"):
        checks.spur_wall(-1)


def test_count_spacing_size_timestamp_ratios():
    for bad in (0, -3):
        with pytest.raises(AntsegInputError, match="epochs must be a whole number >= 1"):
            checks.count(bad, "epochs")
    assert checks.spacing(0.01) == (0.01, 0.01) and checks.spacing([0.01, 0.02]) == (0.01, 0.02)
    assert checks.spacing(None) is None
    for bad in (0, -1, math.nan, math.inf, (0.1, 0.2, 0.3), (0.1, math.nan)):
        with pytest.raises(AntsegInputError, match="--spacing"):
            checks.spacing(bad)
    assert checks.size((512, 256), "s") == (512, 256)
    for bad in ((0, 0), (10, 10), (1, 2, 3), (10**6, 64)):
        with pytest.raises(AntsegInputError):
            checks.size(bad, "s", minimum=32)
    assert checks.timestamp(0) == 0.0
    with pytest.raises(AntsegInputError, match="negative"):
        checks.timestamp(-1)
    for bad in (math.nan, math.inf, "soon"):
        with pytest.raises(AntsegInputError, match="--timestamp must be"):
            checks.timestamp(bad)
    assert checks.ratios((0.8, 0.2, 0), "r") == (0.8, 0.2, 0.0)
    for bad in ((0, 0, 0), (0.5, -0.1, 0.6), (0.5, 0.5)):
        with pytest.raises(AntsegInputError):
            checks.ratios(bad, "r")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a whole number >= 1"),
        ({"epochs": -3}, "epochs must be a whole number >= 1"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"input_size": (0, 0)}, "input_size must be a whole number >= 32"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": math.nan}, "lr must be a finite number"),
        ({"lr": 0}, "lr must be positive"),
        ({"time_budget_s": math.inf}, "time_budget_s must be a finite number"),
        ({"time_budget_s": -1}, "time_budget_s must be >= 0"),
        ({"split_ratios": (0, 0, 0)}, "split_ratios"),
        ({"in_channels": 2}, "in_channels must be one of"),
        ({"normalization": "minmax"}, "normalization must be one of"),
    ],
)
def test_train_config_refuses_bad_numbers_from_api_and_cli(kwargs, message):
    with pytest.raises(AntsegInputError, match=message):
        TrainConfig(**kwargs)
    with pytest.raises(AntsegInputError, match=message.split(" ")[0]):
        load_config(TrainConfig, None, **kwargs)


def test_train_config_from_yaml_names_the_file(tmp_path):
    y = tmp_path / "train.yaml"
    y.write_text("epochs: 2.5\n")
    with pytest.raises(AntsegInputError) as e:
        load_config(TrainConfig, y)
    assert e.value.path == str(y) and "epochs" in e.value.problem


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spacing": (0.0, 0.0)}, "--spacing must be positive"),
        ({"spacing": (math.nan, math.nan)}, "--spacing must be a finite number"),
        ({"patient_regex": "(?P<patient>[0-9+"}, "not a valid regular expression"),
        ({"patient_regex": "[0-9]+"}, "needs a \\(\\?P<patient>...\\) group"),
        ({"workers": -1}, "--workers"),
        ({"modality": "mri"}, "--modality must be one of"),
    ],
)
def test_import_options_refuse_bad_values(kwargs, message):
    with pytest.raises(AntsegInputError, match=message):
        ImportOptions(**kwargs)


def test_device_names_and_what_this_machine_has(monkeypatch):
    """Item 13: one device parser; ``cuda:N`` beyond the GPUs here is refused in one line, not a CUDA error."""
    import torch

    from antseg.checks import resolve_device

    assert [checks.device(v) for v in ("auto", " CPU ", "cuda", "cuda:01")] == ["auto", "cpu", "cuda", "cuda:1"]
    for bad in ("gpu", "gpu9", "cuda:", "cuda:-1", "cuda:x", "mps0", "", None, 0):
        with pytest.raises(AntsegInputError, match="--device must be one of auto, cpu, cuda, cuda:N"):
            checks.device(bad)
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(AntsegInputError, match="'cuda' requested but CUDA is not available"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(AntsegInputError, match="'cuda:3' requested but this machine has 1 CUDA device"):
        resolve_device("cuda:3")


def test_narrow_thresholds_and_split_ratios():
    from antseg.biometry.dataset import AngleThresholds

    assert checks.narrow_thresholds("0.2", 0) == (0.2, 0.0)
    for aod, tisa, what in ((math.inf, 0.05, "--narrow-aod500"), (0.15, math.nan, "--narrow-tisa500"),
                            (-1, 0.05, "--narrow-aod500"), (0.15, 1.5, "--narrow-tisa500")):  # fmt: skip
        with pytest.raises(AntsegInputError, match=what):
            checks.narrow_thresholds(aod, tisa)
        with pytest.raises(AntsegInputError, match=what):
            AngleThresholds(aod, tisa)  # the report's and biometry's thresholds are checked where they are made
    assert checks.ratios((0.33, 0.33, 0.33), "r") == (0.33, 0.33, 0.33)
    for bad in ((0.8, 0.2, 0.2), (1, 1, 1), (0.5, 0.2, 0.2)):
        with pytest.raises(AntsegInputError, match="must be fractions that sum to 1"):
            checks.ratios(bad, "r")


def test_flag_is_a_yes_or_no():
    assert checks.flag(True, "f") is True and checks.flag(False, "f") is False
    with pytest.raises(AntsegInputError, match="f must be one of True, False, got 'yes'"):
        checks.flag("yes", "f")
