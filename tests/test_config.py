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


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: ``levels`` aliases of 10 make 10**levels values once expanded."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (billion_laughs(), "expands to more than 100000 values"),
        ("a: &x [1, *x]\n", "refers to itself"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("a: [1, 2\n", "unreadable YAML"),
    ],
    ids=["billion laughs", "recursive alias", "deep nesting", "syntax"],
)
def test_yaml_is_bounded(tmp_path, text, message):
    import time

    from antseg.config import read_yaml

    y = tmp_path / "c.yaml"
    y.write_text(text)
    t0 = time.perf_counter()
    with pytest.raises(AntsegInputError) as err:
        read_yaml(y)
    assert message in err.value.problem and err.value.path == str(y)
    assert time.perf_counter() - t0 < 5  # refused from the node graph, never expanded


def test_yaml_aliases_within_bounds_still_load(tmp_path):
    from antseg.config import parse_yaml

    assert parse_yaml(billion_laughs(3))["a3"][0][0][0] == ["lol"]
    assert parse_yaml("base: &b {lr: 0.1}\nother: {<<: *b, epochs: 2}\n")["other"] == {"lr": 0.1, "epochs": 2}


@dataclass
class _WithOptions:
    options: dict[str, dict[str, float]] = None  # type: ignore[assignment]
    extra: dict = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("options: [1, 2]\n", "options must be a mapping (KEY: VALUE), got [1, 2]"),
        ("options: {m: 5}\n", "options.m must be a mapping"),
        ("options: {m: {lr: abc}}\n", "options.m.lr must be a number"),
        ("extra: 3\n", "extra must be a mapping"),
    ],
)
def test_mapping_fields_are_checked(tmp_path, yaml_text, message):
    y = tmp_path / "c.yaml"
    y.write_text(yaml_text)
    with pytest.raises(AntsegInputError) as err:
        load_config(_WithOptions, y)
    assert message in err.value.problem and err.value.path == str(y)
    y.write_text("options: {m: {lr: '1e-3'}}\nextra: {k: [1]}\n")
    assert load_config(_WithOptions, y) == _WithOptions({"m": {"lr": 0.001}}, {"k": [1]})
