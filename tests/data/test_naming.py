"""The CASIA file-name pattern has one home (:mod:`antseg.data.naming`) and the importers use it by default."""

from __future__ import annotations

import inspect

from antseg.data.importers.pipeline import run_import
from antseg.data.naming import CASIA, CASIA_PATTERN, match_name


def test_importers_default_to_the_casia_pattern():
    assert inspect.signature(run_import).parameters["patient_regex"].default is CASIA_PATTERN


def test_casia_names_give_patient_and_eye():
    assert match_name("722_20230329_123031_R_CASIA2_001_000", CASIA) == ("722", "R")
    assert match_name("P0003_20260101_120003_L_CASIA2_001_000", CASIA) == ("P0003", "L")
    assert match_name("scan1", CASIA) is None
