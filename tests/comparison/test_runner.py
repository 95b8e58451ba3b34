"""``antseg benchmark``: every method on one split, one metrics code; failures get a row; resumable; spur
methods side by side; oracle predictors get the reference; engines see the runs before them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from antseg.comparison import BenchmarkConfig, run_benchmark
from antseg.comparison.report import results_markdown, speed_markdown
from antseg.data.canonical import load_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.engines import ENGINES, Engine, EngineOutput, EnginePredictor, MissingExtraError, get_engine
from antseg.errors import AntsegInputError


class _EmptyPredictor(EnginePredictor):
    """Predicts every structure empty: every case is a miss with Dice 0."""

    def __init__(self, structures):
        self.structures, self.landmarks = structures, []

    def predict(self, image):
        return EngineOutput(masks=np.zeros((len(self.structures), *image.shape[:2]), np.uint8))


class _EmptyEngine(Engine):
    trained = 0

    def train(self, dataset, run, cfg, log=print):
        type(self).trained += 1
        (run / "DONE").write_text("x")

    def load(self, run, device="auto"):
        return _EmptyPredictor(["anterior_chamber", "lens", "not_in_dataset"])


class _OraclePredictor(EnginePredictor):
    """Returns the reference it was given: Dice 1 everywhere (an oracle row)."""

    oracle, label = True, "Oracle (reference masks)"

    def __init__(self, structures):
        self.structures, self.landmarks, self.ref = structures, [], None

    def set_reference(self, structures, masks, landmarks):
        self.ref = masks[[structures.index(s) for s in self.structures]]

    def predict(self, image):
        out, self.ref = self.ref, None
        return EngineOutput(masks=out)


class _OracleEngine(_EmptyEngine):
    seen_runs: dict = {}

    def train(self, dataset, run, cfg, log=print):
        type(self).seen_runs = dict(cfg.runs)
        (run / "DONE").write_text("x")

    def load(self, run, device="auto"):
        return _OraclePredictor(["lens", "nucleus"])


class _SpurPredictor(EnginePredictor):
    """An oracle spur method: the reference left spur moved 3 px right; the right spur reported absent."""

    structures, landmarks, oracle = [], ["left_scleral_spur", "right_scleral_spur"], True

    def set_reference(self, structures, masks, landmarks):
        self.ref = landmarks

    def predict(self, image):
        left = self.ref.get("left_scleral_spur")
        left = None if left is None else (left[0] + 3.0, left[1])
        return EngineOutput(landmarks={"left_scleral_spur": left, "right_scleral_spur": None},
                            confidence={"left_scleral_spur": 0.9, "right_scleral_spur": 0.1})  # fmt: skip


class _SpurEngine(Engine):
    tasks = ("landmarks",)

    def train(self, dataset, run, cfg, log=print):
        (run / "DONE").write_text("x")

    def load(self, run, device="auto"):
        return _SpurPredictor()


class _FailingEngine(Engine):
    def train(self, dataset, run, cfg, log=print):
        raise RuntimeError("boom\nsecond line")

    def load(self, run, device="auto"):
        raise AssertionError("never loaded")


TEST_ENGINES = {"test-empty": _EmptyEngine, "test-failing": _FailingEngine, "test-oracle": _OracleEngine,
                "test-spur": _SpurEngine}  # fmt: skip


@pytest.fixture
def test_engines():
    for name, cls in TEST_ENGINES.items():
        ENGINES.register(name)(cls)
    _EmptyEngine.trained = 0
    yield
    for name in TEST_ENGINES:
        ENGINES._items.pop(name)


@pytest.fixture(scope="module")
def split_ds(asoct_phantom, tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("bench") / "ds"
    shutil.copytree(asoct_phantom, root)
    split_dataset(root, SplitConfig(ratios=(0.5, 0.25, 0.25)))
    return root


def test_failure_gets_a_row_and_the_rest_go_on_then_resume(split_ds, tmp_path, test_engines):
    cfg = BenchmarkConfig(models=("test-failing", "test-empty"), budget_s=0, device="cpu")
    res = run_benchmark(split_ds, tmp_path / "b", cfg, log=lambda s: None)
    failed, ok = res.methods
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: boom"
    assert ok["status"] == "ok" and ok["structures"] == ["anterior_chamber", "lens"]
    n_test = sum(c.split == "test" for c in load_dataset(split_ds).cases)
    s = {r["structure"]: r for r in ok["summary"]}
    assert s["lens"]["dice_mean"] == 0 and s["lens"]["n_missed"] == n_test and ok["n_test"] == n_test
    for f in ("results.md", "results.csv", "results.json", "by_group.csv", "speed.csv", "dice_boxplot.png",
              "config.yaml"):  # fmt: skip
        assert (tmp_path / "b" / f).is_file(), f
    md = (tmp_path / "b" / "results.md").read_text()
    assert "| **Anterior Chamber** | test-empty |" in md and "| test-failing | RuntimeError: boom |" in md
    assert (tmp_path / "b" / "methods" / "test-empty" / "per_case.csv").is_file()
    # resumable: the finished method is reused, the failed one is tried again
    logs: list[str] = []
    run_benchmark(split_ds, tmp_path / "b", cfg, log=logs.append)
    assert _EmptyEngine.trained == 1 and any("test-empty] finished earlier" in m for m in logs)
    assert any("test-failing] failed" in m for m in logs)
    cfg.force = True
    run_benchmark(split_ds, tmp_path / "b", cfg, log=lambda s: None)
    assert _EmptyEngine.trained == 2


def test_unknown_method_and_missing_split_are_bad_input(split_ds, asoct_phantom, tmp_path):
    with pytest.raises(AntsegInputError, match="unknown method.*segformer.*valid: .*unet-lite"):
        run_benchmark(split_ds, tmp_path / "b", BenchmarkConfig(models=("segformer",)), log=lambda s: None)
    with pytest.raises(AntsegInputError, match="no cases with masks in split 'test'"):
        run_benchmark(asoct_phantom, tmp_path / "c", BenchmarkConfig(models=("unet-lite",)), log=lambda s: None)
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_missing_extra_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "nnunetv2" else real(n, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'antseg\[nnunet\]'"):
        get_engine("nnunet").check_available()


def test_antseg_model_end_to_end_cli(split_ds, tmp_path, cli):
    r = cli("benchmark", split_ds, "--out", tmp_path / "b", "--models", "unet-lite", "--epochs", "1", "--device",
            "cpu", "--option", "unet-lite.input_size=[64,128]", "--option", "unet-lite.batch_size=2")  # fmt: skip
    assert r.code == 0, r.err
    assert "| **Right Iris** | unet-lite |" in r.out and "ms/image" in r.out
    out = json.loads((tmp_path / "b" / "results.json").read_text())["methods"][0]
    assert out["status"] == "ok" and out["n_parameters"] > 1e6 and out["ms_per_image"] > 0
    assert (tmp_path / "b" / "methods" / "unet-lite" / "run" / "best.pt").is_file()
    r = cli("benchmark", split_ds, "--out", tmp_path / "b", "--option", "nnunet-configuration=2d")
    assert r.code == 2 and "METHOD.KEY=VALUE" in r.err


def _summary(structure, dice, hd):
    return {"structure": structure, "unit": "mm", "n": 2, "n_missed": 0, "n_false_positive": 0, "dice_mean": dice,
            "dice_sd": 0.01, "iou_mean": dice / (2 - dice), "iou_sd": 0.01, "hd95_mean": hd, "hd95_sd": 0.1,
            "assd_mean": hd / 2, "assd_sd": 0.1}  # fmt: skip


SEPARATOR = re.compile(r"^\|( *:?-+:? *\|)+$")


def assert_one_separator_per_table(md: str) -> None:
    """Every markdown table: a header, then exactly one separator row with as many cells, then body rows."""
    tables, current = [], []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    assert tables
    for table in tables:
        seps = [i for i, line in enumerate(table) if SEPARATOR.match(line)]
        assert seps == [1], table[:3]
        assert table[0].count("|") == table[1].count("|"), table[:2]


def test_speed_table_has_one_separator_row():
    res = [
        {"method": "a", "status": "ok", "summary": [_summary("lens", 0.9, 1.0)], "by_group": [], "train_s": 1,
         "ms_per_image": 10, "ms_per_image_mean": 11, "n_test": 2, "device": "cpu", "n_parameters": 2_000_000},
        {"method": "c", "status": "failed", "error": "boom"},
    ]  # fmt: skip
    speed = speed_markdown(res)
    assert sum(bool(SEPARATOR.match(line)) for line in speed) == 1
    assert_one_separator_per_table(results_markdown(res, ["lens"]))
    with pytest.raises(AssertionError):
        assert_one_separator_per_table("| a | b |\n| :-- | --: |\n| :-- | --: |\n| 1 | 2 |\n")


def test_markdown_bolds_the_best_per_structure_and_metric():
    res = [
        {"method": "a", "status": "ok", "summary": [_summary("lens", 0.9, 1.0)], "by_group": [], "train_s": 1,
         "ms_per_image": 10, "ms_per_image_mean": 11, "n_test": 2, "device": "cpu", "n_parameters": 2_000_000},
        {"method": "b", "status": "ok", "summary": [_summary("lens", 0.8, 0.5)], "by_group": [], "train_s": 2,
         "ms_per_image": 20, "ms_per_image_mean": 21, "n_test": 2, "device": "cpu", "n_parameters": None},
    ]  # fmt: skip
    md = results_markdown(res, ["lens"])
    a, b = (line for line in md.splitlines() if re.match(r"\|[^|]*\| [ab] \| ", line))
    assert a.startswith("| **Lens** | a | **0.9000 ± 0.0100** | **0.8182 ± 0.0100** | 1.000 ± 0.100 |")
    assert b.startswith("|  | b | 0.8000 ± 0.0100 | 0.6667 ± 0.0100 | **0.500 ± 0.100** | **0.250 ± 0.100** |")
    assert "| a | segmentation | 2.00 M | 1 | 10 | 11 | 2 | cpu |" in md and "| b | segmentation | n/a |" in md


def test_spur_methods_side_by_side_with_segmentation(split_ds, tmp_path, test_engines):
    cfg = BenchmarkConfig(models=("test-empty", "test-oracle"), spurs=("test-spur",), budget_s=0, device="cpu")
    res = run_benchmark(split_ds, tmp_path / "b", cfg, log=lambda s: None)
    empty, oracle, spur = res.methods
    assert _OracleEngine.seen_runs == {"test-empty": str(tmp_path / "b" / "methods" / "test-empty" / "run")}
    assert oracle["label"] == "Oracle (reference masks)" and oracle["status"] == "ok"
    assert all(x["dice_mean"] == 1.0 for x in oracle["summary"])  # the runner gave it each case's reference
    assert spur["task"] == "landmarks" and spur["status"] == "ok"
    ds = load_dataset(split_ds)
    test = [c for c in ds.cases if c.split == "test"]
    s = {x["landmark"]: x for x in spur["summary"]}
    assert s["left_scleral_spur"]["mean_px"] == pytest.approx(3.0) and s["left_scleral_spur"]["pck5"] == 1.0
    assert s["right_scleral_spur"]["n_missed"] == sum(c.landmarks.get("right_scleral_spur") is not None for c in test)
    md = (tmp_path / "b" / "results.md").read_text()
    assert "|  | Oracle (reference masks) | **1.0000 ± 0.0000** | **1.0000 ± 0.0000** | **0.000 ± 0.000** |" in md
    assert "| **Left** | test-spur | 3.00 ± 0.00 | 3.00 | 3.00 | 100.0% |" in md
    assert "| test-spur | spurs | n/a |" in md and "| Oracle (reference masks) | segmentation |" in md
    for f in ("spurs.csv", "spurs_by_group.csv", "speed.csv"):
        assert (tmp_path / "b" / f).is_file(), f
    assert "test-spur,Oracle" not in (tmp_path / "b" / "speed.csv").read_text()
    assert_one_separator_per_table(md)
    assert (tmp_path / "b" / "spurs" / "test-spur" / "per_case.csv").is_file()
    rows = (tmp_path / "b" / "spurs" / "test-spur" / "per_case.csv").read_text()
    assert "confidence" in rows.splitlines()[0]
    # resumable: all three reused; the runs of reused methods still reach later engines
    logs: list[str] = []
    again = run_benchmark(split_ds, tmp_path / "b", cfg, log=logs.append)
    assert sum("finished earlier" in m for m in logs) == 3 and again.markdown == res.markdown
    # spurs only
    only = run_benchmark(split_ds, tmp_path / "c", BenchmarkConfig(models=("none",), spurs=("test-spur",)), print)
    assert [r["method"] for r in only.methods] == ["test-spur"] and "Anatomical Structure" not in only.markdown
    assert not (tmp_path / "c" / "dice_boxplot.png").exists()


def test_wrong_task_names_fail_fast(split_ds, tmp_path):
    with pytest.raises(AntsegInputError, match=r"unknown method\(s\) yolo11-pose for --models \(yolo11-pose: not a "
                       r"segmentation method\); valid: .*medsam"):  # fmt: skip
        run_benchmark(split_ds, tmp_path / "b", BenchmarkConfig(models=("unet-lite", "yolo11-pose")))
    with pytest.raises(AntsegInputError, match=r"unet-lite for --spurs .*valid: .*antseg.*yolo11-pose"):
        run_benchmark(split_ds, tmp_path / "b", BenchmarkConfig(models=(), spurs=("unet-lite",)))
    with pytest.raises(AntsegInputError, match="no methods"):
        run_benchmark(split_ds, tmp_path / "b", BenchmarkConfig(models=("none",)))
    cfg = BenchmarkConfig(models=("unet-lite",), spurs=("yolo11-pose",), options={"yolo11-pose": {"weights": "y.pt"}})
    with pytest.raises(AntsegInputError, match=r"^y.pt: weights for yolo11-pose not found"):
        run_benchmark(split_ds, tmp_path / "b", cfg)
    assert not (tmp_path / "b").exists()


def test_engine_tasks_without_importing_extras():
    from antseg.engines import engine_tasks, list_engines

    assert engine_tasks("yolo11-pose") == ("landmarks",) and engine_tasks("antseg") == ("landmarks",)
    assert engine_tasks("medsam") == ("segmentation",) and engine_tasks("unet-lite") == ("segmentation",)
    assert engine_tasks("nope") == ()
    assert {"antseg", "yolo11-pose"} <= set(list_engines("landmarks"))
    assert "antseg" not in list_engines("segmentation") and "medsam-oracle" in list_engines("segmentation")


def test_antseg_spurs_end_to_end_cli(split_ds, tmp_path, cli):
    tiny = "antseg.model_args={channels: [8, 16, 32], num_res_units: 1}"
    r = cli("benchmark", split_ds, "--out", tmp_path / "b", "--models", "none", "--spurs", "antseg", "--epochs", "1",
            "--device", "cpu", "--option", "antseg.input_size=[64,128]", "--option", "antseg.refine_steps=20",
            "--option", "antseg.crop=48", "--option", tiny)  # fmt: skip
    assert r.code == 0, r.err
    assert "| **Left** | antseg |" in r.out and "| antseg | spurs |" in r.out
    out = json.loads((tmp_path / "b" / "results.json").read_text())["methods"][0]
    assert (
        out["status"] == "ok"
        and out["n_parameters"] > 1e5
        and out["landmarks"] == list(load_dataset(split_ds).landmarks)
    )
    assert (tmp_path / "b" / "spurs" / "antseg" / "run" / "spur.pt").is_file()
    r = cli("benchmark", split_ds, "--out", tmp_path / "c", "--weights", "medsam")
    assert r.code == 2 and "METHOD=FILE" in r.err


def test_every_engine_refuses_an_unknown_option_before_any_work():
    """The same contract for every engine: its own defaults pass, an unknown key is refused by name."""
    from antseg.engines import EngineConfig, list_engines

    for name in list_engines():
        try:
            engine = get_engine(name)
        except MissingExtraError:
            continue
        engine.check_options(EngineConfig(device="cpu"))
        with pytest.raises(AntsegInputError, match="no_such_option"):
            engine.check_options(EngineConfig(device="cpu", options={"no_such_option": 1}))
