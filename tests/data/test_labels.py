"""Label policy: --map, --ignore, --keep and unknown labels."""

from __future__ import annotations

import pytest

from antseg.data.labels import LabelPolicy
from antseg.errors import AntsegInputError


def test_label_policy_map_ignore_keep_and_unknown():
    vocab = {"lens": "lens", "ac": "anterior_chamber"}
    p = LabelPolicy.from_cli(["Iris L=left_iris"], ["Junk"], None)
    assert p.resolve("AC", vocab) == "anterior_chamber"
    assert p.resolve("iris_l", vocab) == "left_iris"
    assert p.resolve("junk", vocab) is None
    with pytest.raises(AntsegInputError, match="unknown label\\(s\\): Foo, bar"):
        p.resolve_all({"Foo": "a.json", "bar": "b.json", "lens": "c.json"}, vocab)
    keep = LabelPolicy.from_cli(None, None, ["Cornea"])
    assert keep.resolve("Pupil", {"cornea": "cornea", "pupil": "pupil"}) is None
    assert keep.resolve("Cornea", {"cornea": "cornea"}) == "cornea"
    with pytest.raises(AntsegInputError, match="OLD=NEW"):
        LabelPolicy.from_cli(["nonsense"], None)
