"""Run the benchmark: every method trains on the same split, predicts the same test images in-process on
the same device, and is scored by the same metrics code at the images' original resolution."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from antseg.benchmark.config import BenchmarkConfig
from antseg.benchmark.report import write_report
from antseg.config import dump_config
from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.engines import EngineConfig, get_engine, list_engines
from antseg.errors import AntsegInputError
from antseg.io.tables import write_csv, write_json
from antseg.metrics import SegmentationMetric

RESULT = "result.json"
TRAIN_INFO = "train.json"


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` returns: one result dict per method (``status`` ok or failed), and the
    markdown table it wrote to ``out/results.md``."""

    out: Path
    methods: list[dict] = field(default_factory=list)
    markdown: str = ""


def _test_cases(ds: CanonicalDataset, split: str) -> list:
    cases = [c for c in ds.cases if c.split == split and c.mask]
    if not cases:
        have = sorted({c.split or "(none)" for c in ds.cases})
        raise AntsegInputError(ds.root, f"no cases with masks in split {split!r} (splits here: {', '.join(have)})")
    if not any(c.split == "train" for c in ds.cases):
        raise AntsegInputError(ds.root, "no 'train' split: run `antseg data split` first")
    return cases


def _train(engine, dataset: Path, run: Path, cfg: BenchmarkConfig, method: str, log) -> float:
    """Train unless ``run`` already holds a finished training; returns the training seconds."""
    info = run / TRAIN_INFO
    if engine.is_trained(run) and info.is_file():
        log(f"[{method}] trained earlier: reusing {run}")
        return float(json.loads(info.read_text())["train_s"])
    if run.exists():
        shutil.rmtree(run)  # an interrupted training starts again from scratch
    run.mkdir(parents=True)
    ecfg = EngineConfig(cfg.budget_s, cfg.epochs, cfg.seed, cfg.device, dict(cfg.options.get(method, {})))
    t0 = time.perf_counter()
    engine.train(dataset, run, ecfg, log=lambda s: log(f"[{method}] {s}"))
    train_s = time.perf_counter() - t0
    write_json(info, {"train_s": train_s, "budget_s": cfg.budget_s, "epochs": cfg.epochs, "seed": cfg.seed})
    return train_s


def evaluate_method(
    method: str, ds: CanonicalDataset, cases: list, out: Path, cfg: BenchmarkConfig, log: Callable[[str], None],
    progress: Callable[[int, int], None] | None = None,
) -> dict:  # fmt: skip
    """Train (or reuse) one method and score it on ``cases``; writes ``out/per_case.csv`` and ``result.json``."""
    engine = get_engine(method)
    engine.check_available()
    train_s = _train(engine, ds.root, out / "run", cfg, method, log)
    predictor = engine.load(out / "run", cfg.device)
    common = [s for s in predictor.structures if s in ds.structures]
    if not common:
        raise AntsegInputError(ds.root, f"{method} predicts {predictor.structures}, none of the dataset's structures")
    pi = [predictor.structures.index(s) for s in common]
    di = [ds.structures.index(s) for s in common]
    metric, times = SegmentationMetric(common), []
    gray = predictor.in_channels == 1
    predictor.predict(ds.load_image(cases[0], grayscale=gray))  # warm-up: lazy init, caches, allocator
    for i, c in enumerate(cases):
        img = ds.load_image(c, grayscale=gray)
        t0 = time.perf_counter()
        masks = predictor.predict(img).masks
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - t0))
        metric(masks[pi], ds.load_masks(c)[di], c.case_id, c.group, ds.spacing(c))
        if progress:
            progress(i + 1, len(cases))
    result = {
        "method": method, "status": "ok", "structures": common,
        "missing_structures": [s for s in ds.structures if s not in common],
        "train_s": train_s, "ms_per_image": statistics.median(times), "ms_per_image_mean": statistics.fmean(times),
        "n_test": len(cases), "n_parameters": predictor.n_parameters,
        "device": "cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu",
        "summary": metric.aggregate(), "by_group": metric.aggregate(by="group"),
    }  # fmt: skip
    write_csv(out / "per_case.csv", metric.rows)
    result["per_case"] = metric.rows
    write_json(out / RESULT, result)
    return result


def run_benchmark(
    dataset: str | Path,
    out: str | Path,
    cfg: BenchmarkConfig,
    log: Callable[[str], None] = print,
    progress: Callable[[str], object] | None = None,
) -> BenchmarkResult:
    """Benchmark ``cfg.models`` on ``dataset``: train each on the train/val split, score on ``cfg.split``.

    Writes ``out/results.md`` (the reference table layout), ``results.csv``, ``results.json``,
    ``by_group.csv``, ``speed.csv``, ``dice_boxplot.png``, the resolved ``config.yaml``, and per method
    ``methods/<name>/`` (its run folder, ``per_case.csv``, ``result.json``). A finished method is reused
    unless ``cfg.force``; a failing method gets a row with its error and the others go on.

    Args:
        progress: optional factory ``progress(description)`` -> context manager yielding ``update(done, total)``.
    """
    out = Path(out)
    ds = load_dataset(dataset)
    cases = _test_cases(ds, cfg.split)
    if not cfg.models:
        raise AntsegInputError(None, "no methods to benchmark")
    unknown = [m for m in cfg.models if m not in list_engines()]
    if unknown:
        raise AntsegInputError(None, f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(list_engines())}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out / "config.yaml")
    results = []
    for k, method in enumerate(cfg.models):
        mdir = out / "methods" / method
        log(f"method {k + 1}/{len(cfg.models)}: {method}")
        if (mdir / RESULT).is_file() and not cfg.force:
            log(f"[{method}] finished earlier: reusing its results (--force runs it again)")
            results.append(json.loads((mdir / RESULT).read_text()))
            continue
        if cfg.force and mdir.exists():
            shutil.rmtree(mdir)
        mdir.mkdir(parents=True, exist_ok=True)
        try:
            if progress is None:
                results.append(evaluate_method(method, ds, cases, mdir, cfg, log))
            else:
                with progress(f"{method}: train, then predict {len(cases)} test images") as update:
                    results.append(evaluate_method(method, ds, cases, mdir, cfg, log, update))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failing method gets its row; the others go on
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log(f"[{method}] failed: {msg}")
            results.append({"method": method, "status": "failed", "error": f"{type(exc).__name__}: {msg}"})
            write_json(mdir / "error.json", results[-1])
    md = write_report(out, results, ds, cfg)
    return BenchmarkResult(out, results, md)
