"""Issue 27: an archive on many workers. Scans per second of ``antseg report`` for 1 and 2 local workers and a
local Dask cluster of 2 workers, the start-up cost and memory of one worker, and a 10,000-scan manifest run end to
end with a kill in the middle and a resume (nothing lost, nothing doubled).

    python benchmarks/bench_archive.py --out /tmp/bench-archive                # everything
    python benchmarks/bench_archive.py --out /tmp/b --archive 0                # throughput only
    python benchmarks/bench_archive.py --out /tmp/b --throughput 0 --archive 2000

Throughput uses antseg's shipped ``default`` models on phantom scans (``--size``, default 2130x998, CASIA2's
size). The archive run is about the machinery (manifest, workers, journal, kill, resume), so it uses
``predict`` with a segmentation model trained for a few seconds on the phantom, on small scans: ``--unique``
phantom scans, each written ``archive / unique`` times under its own name. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ANTSEG = [sys.executable, "-m", "antseg"]


def phantom(folder: Path, n: int, size: tuple[int, int], seed: int = 0) -> list[Path]:
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset

    generate_asoct_dataset(folder, AsoctPhantomConfig(n=n, size=size, eyes_per_patient=2, seed=seed))
    return sorted((folder / "images").glob("*.png"))


def manifest(path: Path, scans: list[Path]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path"])
        w.writerows([[str(s)] for s in scans])
    return path


def worker_cost(size: tuple[int, int], scan: Path) -> dict:
    """Start-up (imports + loading both models) and memory of one worker process, in a fresh interpreter."""
    code = f"""
import json, resource, time
t0 = time.perf_counter()
from antseg.batch.backends import set_threads
from antseg.scan.tasks import MeasureTask, PipelineSpec, ScanItem
from antseg.scan.config import ScanConfig
set_threads(1)
t1 = time.perf_counter()
spec = PipelineSpec.of("default", "default", ScanConfig(), "cpu", use="report")
pipe = spec.build()
t2 = time.perf_counter()
MeasureTask(spec, ".jpg").run(pipe, ScanItem({str(scan)!r}))
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "models_s": t2 - t1, "first_scan_s": t3 - t2,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def throughput(root: Path, n: int, size: tuple[int, int]) -> dict:
    from antseg.batch.dask_backend import local_cluster
    from antseg.report import make_report

    scans = phantom(root / "tp", n, size)
    listed = manifest(root / "tp.csv", scans)
    rows = {}
    for name, kw in (("1 worker", {"workers": 1}), ("2 workers", {"workers": 2}), ("local Dask, 2 workers", {})):
        t0 = time.perf_counter()
        if kw:
            res = make_report([listed], root / f"r-{name[0]}", "default", "default", device="cpu", **kw)
        else:
            with local_cluster(workers=2) as address:
                t_up = time.perf_counter() - t0
                res = make_report([listed], root / "r-dask", "default", "default", device="cpu", cluster=address)
        wall = time.perf_counter() - t0
        run = res["run"]
        rows[name] = {"scans": n, "wall_s": wall, "scans_per_s": n / wall, "processing_s": run.seconds,
                      "scans_per_s_processing": n / run.seconds}  # fmt: skip
        if not kw:
            rows[name]["cluster_start_s"] = t_up
    same = all((root / "r-1" / t).read_bytes() == (root / d / t).read_bytes()
               for d in ("r-2", "r-dask") for t in ("scans.csv", "eyes.csv"))  # fmt: skip
    return {"size": list(size), "rows": rows, "tables_identical": same, "worker": worker_cost(size, scans[0])}


def tiny_model(root: Path, size: tuple[int, int]) -> Path:
    from antseg.data.split import SplitConfig, split_dataset
    from antseg.training import TrainConfig, train_segmentation

    ds = root / "train"
    phantom(ds, 24, size, seed=1)
    split_dataset(ds, SplitConfig(ratios=(0.7, 0.15, 0.15)))
    cfg = TrainConfig(model="unet-lite", model_args={"channels": (8, 16, 32), "num_res_units": 1},
                      input_size=(64, 128), batch_size=8, epochs=2, lr=3e-3, threads=2)  # fmt: skip
    train_segmentation(ds, root / "tiny", cfg, log=lambda s: None)
    return root / "tiny"


def archive(root: Path, n: int, unique: int, size: tuple[int, int], workers: int, kill_at: float) -> dict:
    """``n`` scans through ``predict --workers``: killed (the whole process group) after ``kill_at`` of them are
    journaled, resumed, then every scan checked to be there exactly once."""
    model = tiny_model(root, size)
    t0 = time.perf_counter()
    src = phantom(root / "unique", unique, size, seed=2)
    scans = root / "scans"
    scans.mkdir()
    listed = []
    for i in range(n):
        dst = scans / f"scan{i:06d}.png"
        os.link(src[i % unique], dst)
        listed.append(dst)
    listed_csv = manifest(root / "archive.csv", listed)
    make_s = time.perf_counter() - t0
    out = root / "pred"
    journal = root / ".pred.partial" / ".antseg-journal.jsonl"
    cmd = [*ANTSEG, "predict", str(model), str(listed_csv), "--out", str(out), "--device", "cpu", "--no-mirror",
           "--workers", str(workers)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    memory = []  # (scans journaled, main process RSS MB, largest worker RSS MB, main CPU s): flat or not
    while proc.poll() is None:
        k = journal.read_bytes().count(b'"key"') if journal.is_file() else 0
        if k >= kill_at * n:
            break
        if not memory or k >= memory[-1][0] + n // 20:
            memory.append((k, *_rss(proc.pid)))
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first_s = time.perf_counter() - t0
    before = journal.read_bytes().count(b'"key"')
    t0 = time.perf_counter()
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    resume_s = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(done.stderr)
    names = [r["image"] for r in csv.DictReader(open(out / "quality.csv"))]
    keys = [json.loads(ln)["key"] for ln in open(out / ".antseg-journal.jsonl") if '"key"' in ln]
    folders = [p for p in out.iterdir() if p.is_dir()]
    expected = [p.name for p in listed]
    return {
        "scans": n, "unique_phantom_scans": unique, "size": list(size), "workers": workers, "make_inputs_s": make_s,
        "killed_after_s": first_s, "journaled_before_kill": before, "resume_s": resume_s,
        "scans_per_s_overall": n / (first_s + resume_s),
        "quality_rows": len(names), "quality_rows_in_input_order": names == expected,
        "journal_keys": len(keys), "journal_keys_unique": len(set(keys)), "item_folders": len(folders),
        "lost": len(set(expected) - set(names)), "doubled": len(names) - len(set(names)),
        "redone_after_kill": len(keys) - n, "memory_mb_by_scans_done": memory,
    }  # fmt: skip


def _rss(pid: int) -> tuple[float, float, float]:
    """Resident memory (MB) of process ``pid`` and of its largest child, and the CPU seconds ``pid`` has used (the
    main process's share of the work: writing what the workers send, journaling)."""
    import psutil

    try:
        p = psutil.Process(pid)
        kids = [c.memory_info().rss for c in p.children(recursive=True)]
        cpu = p.cpu_times()
        return p.memory_info().rss / 2**20, max(kids, default=0) / 2**20, cpu.user + cpu.system
    except psutil.Error:
        return float("nan"), float("nan"), float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="work folder (replaced)")
    ap.add_argument("--throughput", type=int, default=24, help="scans for the throughput table (0: skip)")
    ap.add_argument("--size", default="2130x998", help="throughput scans' size WxH")
    ap.add_argument("--archive", type=int, default=10000, help="scans of the kill-and-resume run (0: skip)")
    ap.add_argument("--unique", type=int, default=200, help="distinct phantom scans in the archive")
    ap.add_argument("--archive-size", default="320x150", help="archive scans' size WxH")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill-at", type=float, default=0.5, help="kill when this fraction is journaled")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    shutil.rmtree(a.out, ignore_errors=True)
    a.out.mkdir(parents=True)
    size = tuple(int(v) for v in a.size.split("x"))
    result = {"cores": os.cpu_count(), "load_average": os.getloadavg()}
    if a.throughput:
        result["throughput"] = throughput(a.out / "throughput", a.throughput, size)
        print(json.dumps(result["throughput"], indent=1), flush=True)
    if a.archive:
        asize = tuple(int(v) for v in a.archive_size.split("x"))
        result["archive"] = archive(a.out / "archive", a.archive, a.unique, asize, a.workers, a.kill_at)
    result["load_average_end"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
