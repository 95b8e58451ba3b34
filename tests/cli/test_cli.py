"""The command tree: every command has help (found from the app itself), the version, and bad input exits 2
with one line and no traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer

from antseg.cli import app
from antseg.models import DEFAULT_MODEL
from antseg.training import TrainConfig


def command_paths(cmd, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under ``cmd`` (a click command; groups have ``commands``), depth first."""
    out = [path]
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        out += command_paths(sub, (*path, name))
    return out


COMMANDS = command_paths(typer.main.get_command(app))


def test_command_tree_is_found():
    """The walk sees the whole tree (a broken walk would make the help test below vacuous)."""
    expected = {
        (),
        ("data",),
        ("data", "import"),
        ("data", "export"),
        ("data", "validate"),
        ("data", "split"),
        ("data", "info"),
        ("data", "phantom"),
        ("data", "phantom", "asoct"),
        ("data", "phantom", "surgical"),
        ("train",),
        ("train", "seg"),
        ("train", "spur"),
        ("evaluate",),
        ("predict",),
        ("biometry",),
        ("demo",),
    }
    assert expected <= set(COMMANDS)
    assert len(COMMANDS) == len(set(COMMANDS))


def _flat(text: str) -> str:
    """Help text with the panel borders and line wrapping removed."""
    return re.sub(r"[\s│─╭╮╯╰]+", " ", text)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "antseg")
def test_help(cli, cmd):
    r = cli(*cmd, "--help")
    assert r.code == 0, r.err
    assert "Usage: " + " ".join(["antseg", *cmd]) in _flat(r.out)


def test_train_seg_help_states_the_real_default_model(cli):
    assert DEFAULT_MODEL == TrainConfig().model == "unet-lite"  # the default the help names is the one used
    r = cli("train", "seg", "--help")
    assert r.code == 0
    text = _flat(r.out)
    assert f"(default {DEFAULT_MODEL})" in text
    assert "default unet)" not in text


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("antseg ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "phantom", "asoct", "{tmp}/x", "--size", "big"], "WIDTHxHEIGHT"),
        (["data", "phantom", "asoct", "{tmp}/x", "--groups", "normal,weird"], "unknown group"),
        (["data", "phantom", "asoct", "{tmp}/x", "--hidden-spurs", "1.5"], "hidden_spurs must be a fraction"),
        (["data", "phantom", "asoct", "{tmp}/x", "--narrow-fields", "-0.1"], "narrow_fields must be a fraction"),
        (["data", "split", "{tmp}", "--ratios", "0.5,0.5"], "needs 3 values"),
        (["data", "export", "nosuch", "{tmp}", "{tmp}/o"], "valid: labelme, masks, supervisely"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, cli, args, message):
    r = cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_console_script_reports_bad_input_without_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "antseg", "data", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a dataset folder" in r.stderr
