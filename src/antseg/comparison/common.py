"""What every benchmarked method shares: train once (or reuse a finished run), then predict the scored images
in-process with the same warm-up and timing."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from antseg.comparison.config import BenchmarkConfig
from antseg.data.canonical import CanonicalDataset
from antseg.engines import Engine, EngineConfig, EngineOutput, EnginePredictor
from antseg.io.tables import write_json

RESULT = "result.json"
TRAIN_INFO = "train.json"


def train_or_reuse(
    engine: Engine, dataset: Path, run: Path, cfg: BenchmarkConfig, method: str, log: Callable[[str], None],
    runs: dict[str, str] | None = None,
) -> float:  # fmt: skip
    """Train unless ``run`` already holds a finished training; returns the training seconds.

    Args:
        runs: run folders of the methods trained earlier in this benchmark (passed to the engine).
    """
    info = run / TRAIN_INFO
    if engine.is_trained(run) and info.is_file():
        log(f"[{method}] trained earlier: reusing {run}")
        return float(json.loads(info.read_text())["train_s"])
    if run.exists():
        shutil.rmtree(run)  # an interrupted training starts again from scratch
    run.mkdir(parents=True)
    opts = dict(cfg.options.get(method, {}))
    ecfg = EngineConfig(
        cfg.budget_s, cfg.epochs, cfg.seed, cfg.device, opts, dict(runs or {}), trust_weights=cfg.trust_weights
    )
    t0 = time.perf_counter()
    engine.train(dataset, run, ecfg, log=lambda s: log(f"[{method}] {s}"))
    train_s = time.perf_counter() - t0
    write_json(info, {"train_s": train_s, "budget_s": cfg.budget_s, "epochs": cfg.epochs, "seed": cfg.seed})
    return train_s


def trained_predictor(
    method: str, ds: CanonicalDataset, out: Path, cfg: BenchmarkConfig, log: Callable[[str], None],
    runs: dict[str, str] | None, kind: str,
) -> tuple[EnginePredictor, float, list[str]]:  # fmt: skip
    """Train (or reuse) ``method`` in ``out/run`` and load it; returns (predictor, training seconds, the names it
    shares with the dataset, in the predictor's order). ``kind``: ``structures`` or ``landmarks``."""
    from antseg.engines import get_engine
    from antseg.errors import AntsegInputError

    engine = get_engine(method)
    engine.check_available()
    train_s = train_or_reuse(engine, ds.root, out / "run", cfg, method, log, runs)
    predictor = engine.load(out / "run", cfg.device)
    theirs, ours = getattr(predictor, kind), getattr(ds, kind)
    common = [n for n in theirs if n in ours]
    if not common:
        raise AntsegInputError(ds.root, f"{method} predicts {theirs}, none of the dataset's {kind}")
    return predictor, train_s, common


def _reference(predictor: EnginePredictor, ds: CanonicalDataset, case) -> None:
    """Give an oracle predictor the case's ground truth (outside the timed call)."""
    if predictor.oracle:
        masks = ds.load_masks(case) if case.mask else None
        predictor.set_reference(list(ds.structures), masks, dict(case.landmarks))


def predict_timed(
    predictor: EnginePredictor, ds: CanonicalDataset, cases: list, progress: Callable[[int, int], None] | None = None
) -> Iterator[tuple[object, EngineOutput, float]]:
    """(case, output, milliseconds) for each case, after one warm-up call on the first (lazy init, caches).

    Images are read as the predictor wants them (grey or RGB) outside the timed region; CUDA is synchronised.
    """
    gray = predictor.in_channels == 1
    _reference(predictor, ds, cases[0])
    predictor.predict(ds.load_image(cases[0], grayscale=gray))
    for i, c in enumerate(cases):
        img = ds.load_image(c, grayscale=gray)
        _reference(predictor, ds, c)
        t0 = time.perf_counter()
        out = predictor.predict(img)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        ms = 1000 * (time.perf_counter() - t0)
        yield c, out, ms
        if progress:
            progress(i + 1, len(cases))


def device_name(cfg: BenchmarkConfig) -> str:
    return "cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu"
