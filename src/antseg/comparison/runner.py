"""Run the benchmark: every method trains on the same split, predicts the same test images in-process on
the same device, and is scored by the same metrics code at the images' original resolution."""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from antseg.comparison.common import RESULT, device_name, predict_timed, trained_predictor
from antseg.comparison.config import BenchmarkConfig
from antseg.comparison.report import write_report
from antseg.comparison.spur_methods import evaluate_spur_method, spur_cases
from antseg.config import dump_config
from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.engines import EngineConfig, engine_tasks, get_engine, list_engines
from antseg.errors import AntsegInputError
from antseg.io.output_folder import (
    check_output_target,
    existing_paths,
    make_parents,
    output_lock,
    read_owner_marker,
    remove_empty,
    write_owner_marker,
)
from antseg.io.tables import write_csv, write_json
from antseg.metrics import SegmentationMetric


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` returns: one result dict per method (``status`` ok or failed; ``task``
    segmentation or landmarks), and the markdown table it wrote to ``out/results.md``."""

    out: Path
    methods: list[dict] = field(default_factory=list)
    markdown: str = ""


def _test_cases(ds: CanonicalDataset, split: str) -> list:
    cases = [c for c in ds.cases if c.split == split and c.mask]
    if not cases:
        have = sorted({c.split or "(none)" for c in ds.cases})
        raise AntsegInputError(ds.root, f"no cases with masks in split {split!r} (splits here: {', '.join(have)})")
    return cases


def evaluate_method(
    method: str, ds: CanonicalDataset, cases: list, out: Path, cfg: BenchmarkConfig, log: Callable[[str], None],
    progress: Callable[[int, int], None] | None = None, runs: dict[str, str] | None = None,
) -> dict:  # fmt: skip
    """Train (or reuse) one segmentation method and score it on ``cases``; writes ``out/per_case.csv`` and
    ``out/result.json``."""
    predictor, train_s, common = trained_predictor(method, ds, out, cfg, log, runs, "structures")
    pi = [predictor.structures.index(s) for s in common]
    di = [ds.structures.index(s) for s in common]
    metric, times = SegmentationMetric(common), []
    for c, res, ms in predict_timed(predictor, ds, cases, progress):
        times.append(ms)
        metric(res.masks[pi], ds.load_masks(c)[di], c.case_id, c.group, ds.spacing(c))
    result = {
        "method": method, "task": "segmentation", "label": predictor.label or method, "status": "ok",
        "structures": common, "missing_structures": [s for s in ds.structures if s not in common],
        "train_s": train_s, "ms_per_image": statistics.median(times), "ms_per_image_mean": statistics.fmean(times),
        "n_test": len(cases), "n_parameters": predictor.n_parameters, "device": device_name(cfg),
        "summary": metric.aggregate(), "by_group": metric.aggregate(by="group"),
    }  # fmt: skip
    write_csv(out / "per_case.csv", metric.rows)
    result["per_case"] = metric.rows
    write_json(out / RESULT, result)
    return result


def _methods(names: tuple[str, ...], task: str, flag: str) -> list[str]:
    """The names of ``task`` methods (blank and ``none`` dropped); unknown or wrong-task names fail fast."""
    names = [n.strip() for n in names if n.strip() and n.strip() != "none"]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AntsegInputError(None, f"{flag} lists {', '.join(twice)} more than once: each method runs once")
    valid = list_engines(task)
    wrong = [n for n in names if n not in valid]
    if wrong:
        what = {"segmentation": "segmentation", "landmarks": "spur (landmark)"}[task]
        other = [n for n in wrong if engine_tasks(n)]
        hint = f" ({', '.join(other)}: not a {what} method)" if other else ""
        raise AntsegInputError(
            None, f"unknown method(s) {', '.join(wrong)} for {flag}{hint}; valid: {', '.join(valid)}"
        )
    return names


def run_benchmark(
    dataset: str | Path,
    out: str | Path,
    cfg: BenchmarkConfig,
    log: Callable[[str], None] = print,
    progress: Callable[[str], object] | None = None,
) -> BenchmarkResult:
    """Benchmark ``cfg.models`` (segmentation) and ``cfg.spurs`` (scleral spurs) on ``dataset``: train each on
    the train/val split, score on ``cfg.split``.

    Writes ``out/results.md`` (the reference table layout, then the spur table), ``results.csv``,
    ``results.json``, ``by_group.csv``, ``spurs.csv``, ``spurs_by_group.csv``, ``speed.csv``,
    ``dice_boxplot.png``, the resolved ``config.yaml``, per segmentation method ``methods/<name>/`` and per spur
    method ``spurs/<name>/`` (its run folder, ``per_case.csv``, ``result.json``). Methods run in the order
    given, segmentation first; each engine sees the run folders of the methods before it (MedSAM takes its
    boxes from one). A finished method is reused unless ``cfg.force``; a failing method gets a row with its
    error and the others go on.

    Args:
        progress: optional factory ``progress(description)`` -> context manager yielding ``update(done, total)``.
    """
    out = Path(out)
    ds = load_dataset(dataset)
    models = _methods(cfg.models, "segmentation", "--models")
    spurs = _methods(cfg.spurs, "landmarks", "--spurs")
    if not models and not spurs:
        raise AntsegInputError(None, "no methods to benchmark")
    check_methods(models + spurs, cfg)
    seg_cases = _test_cases(ds, cfg.split) if models else []
    lm_cases = spur_cases(ds, cfg.split) if spurs else []
    if not any(c.split == "train" for c in ds.cases):
        raise AntsegInputError(ds.root, "no 'train' split: run `antseg data split` first")
    weights = [o.get("weights") for o in cfg.options.values()]
    check_benchmark_folder(out, existing_paths(dataset, [w for w in weights if isinstance(w, str | Path)]))
    made = make_parents(out)
    try:
        with output_lock(out):
            return _run(ds, out, cfg, models, spurs, seg_cases, lm_cases, log, progress)
    except BaseException:
        if not out.exists():
            remove_empty(made)
        raise


def check_methods(methods: list[str], cfg: BenchmarkConfig) -> None:
    """Every option and weights file is for a method that runs, and each method accepts its own: refused before
    hours of training, not when the method's turn comes."""
    unused = sorted(set(cfg.options) - set(methods))
    if unused:
        raise AntsegInputError(
            None, f"--option/--weights for {', '.join(unused)}, which this benchmark does not run "
            f"(it runs {', '.join(methods)}): add it to --models/--spurs or drop the option"
        )  # fmt: skip
    for method in methods:
        opts = dict(cfg.options.get(method, {}))
        ecfg = EngineConfig(cfg.budget_s, cfg.epochs, cfg.seed, cfg.device, opts, trust_weights=cfg.trust_weights)
        engine = get_engine(method)
        engine.check_options(ecfg)
        if opts.get("weights"):
            engine.check_weights(opts["weights"], ecfg)


#: What marks a folder as a benchmark's (written when it starts; older ones are known by their layout).
BENCHMARK_KIND = "benchmark"


def check_benchmark_folder(out: Path, inputs: list[Path]) -> None:
    """``out`` is new, empty, or a benchmark folder (which a run continues); never a file, a symbolic link, an
    input or a folder holding one, nor another folder of the user's (the run would add its files to it)."""
    check_output_target(out, inputs)
    if not out.is_dir() or not any(out.iterdir()):
        return
    info = read_owner_marker(out)
    legacy = (out / "config.yaml").is_file() and any((out / d).is_dir() for d in ("methods", "spurs"))
    if (info or {}).get("kind") != BENCHMARK_KIND and not legacy:
        raise AntsegInputError(
            out, "is not empty and holds no antseg benchmark: give a new folder as --out (a benchmark folder is "
            "continued)"
        )  # fmt: skip


def _run(
    ds: CanonicalDataset, out: Path, cfg: BenchmarkConfig, models: list[str], spurs: list[str], seg_cases: list,
    lm_cases: list, log: Callable[[str], None], progress: Callable[[str], object] | None,
) -> BenchmarkResult:  # fmt: skip
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise AntsegInputError(out, f"cannot be created ({exc.strerror or exc})") from None
    write_owner_marker(out, kind=BENCHMARK_KIND)
    dump_config(cfg, out / "config.yaml")
    plan = [(m, "segmentation", "methods", seg_cases) for m in models]
    plan += [(m, "landmarks", "spurs", lm_cases) for m in spurs]
    results, runs = [], {}
    for k, (method, task, folder, cases) in enumerate(plan):
        mdir = out / folder / method
        log(f"method {k + 1}/{len(plan)}: {method}" + (" (spurs)" if task == "landmarks" else ""))
        if (mdir / RESULT).is_file() and not cfg.force:
            log(f"[{method}] finished earlier: reusing its results (--force runs it again)")
            results.append(json.loads((mdir / RESULT).read_text()))
            runs[method] = str(mdir / "run")
            continue
        if cfg.force and mdir.exists():
            shutil.rmtree(mdir)
        mdir.mkdir(parents=True, exist_ok=True)
        evaluate = evaluate_method if task == "segmentation" else evaluate_spur_method
        try:
            if progress is None:
                results.append(evaluate(method, ds, cases, mdir, cfg, log, None, runs))
            else:
                with progress(f"{method}: train, then predict {len(cases)} test images") as update:
                    results.append(evaluate(method, ds, cases, mdir, cfg, log, update, runs))
            runs[method] = str(mdir / "run")
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a failing method gets its row; the others go on
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log(f"[{method}] failed: {msg}")
            results.append(
                {"method": method, "task": task, "status": "failed", "error": f"{type(exc).__name__}: {msg}"}
            )
            write_json(mdir / "error.json", results[-1])
    md = write_report(out, results, ds, cfg)
    return BenchmarkResult(out, results, md)
