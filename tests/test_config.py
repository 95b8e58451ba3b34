"""Dataclass configs: defaults, then YAML, then overrides; unknown keys and bad values are input errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from antseg.config import load_config
from antseg.errors import AntsegInputError


@dataclass
class _Cfg:
    a: int = 1
    b: tuple[float, ...] = (0.5, 0.5)
    c: str = "x"


def test_config_defaults_yaml_and_overrides(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("a: 3\nb: [0.1, 0.2]\n")
    cfg = load_config(_Cfg, y, c="z", a=None)
    assert cfg == _Cfg(a=3, b=(0.1, 0.2), c="z")
    y.write_text("zz: 1\n")
    with pytest.raises(AntsegInputError, match="unknown option\\(s\\): zz"):
        load_config(_Cfg, y)
    with pytest.raises(AntsegInputError, match="a must be a whole number"):
        load_config(_Cfg, None, a="many")
