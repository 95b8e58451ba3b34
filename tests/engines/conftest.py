"""Fixtures for the external engines: a tiny split phantom and a guard that fails any network access."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.split import SplitConfig, split_dataset


@pytest.fixture(scope="module")
def small_scans(tmp_path_factory) -> Path:
    """8 AS-OCT phantom scans of 160 x 80 px, split 4 train / 2 val / 2 test, the first train scan without a
    right spur."""
    from antseg.data.canonical import load_dataset

    out = tmp_path_factory.mktemp("eng") / "asoct"
    generate_asoct_dataset(out, AsoctPhantomConfig(n=8, size=(160, 80), seed=1))
    split_dataset(out, SplitConfig(ratios=(0.5, 0.25, 0.25)))
    ds = load_dataset(out)
    next(c for c in ds.cases if c.split == "train").landmarks["right_scleral_spur"] = None
    ds.save()
    return out


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Every DNS lookup or socket connection raises; the attempts are recorded (the test asserts none)."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network access blocked by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    return attempts
