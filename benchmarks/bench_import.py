"""Import speed: N LabelMe cases of 2135x1568 (reference-dataset size), made by the phantom.

Usage: python benchmarks/bench_import.py [--n 848] [--workers 0] [--cache benchmarks/_cache]
Target: all 848 cases imported in under 60 s on 2 cores. The source tree is generated once and cached.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from antseg.data.exporters import run_exporter
from antseg.data.importers import ImportOptions, run_importer
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset


def make_source(cache: Path, n: int, workers: int) -> Path:
    src = cache / f"labelme-{n}-2135x1568"
    if (src / ".complete").exists():
        return src
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        t = time.perf_counter()
        generate_asoct_dataset(Path(tmp) / "canon", AsoctPhantomConfig(n=n, size=(2135, 1568), workers=workers))
        print(f"phantom: {n} scans in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        run_exporter("labelme", Path(tmp) / "canon", src, image_format="jpg", overwrite=True)
        print(f"export to LabelMe (jpg): {time.perf_counter() - t:.1f} s")
    (src / ".complete").write_text("ok\n")
    return src


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=848)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path(__file__).parent / "_cache")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    src = make_source(args.cache, args.n, args.workers or 2)
    out = args.cache / "imported"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    res = run_importer("labelme", src, out, ImportOptions(workers=args.workers, overwrite=True))
    dt = time.perf_counter() - t
    print(
        f"import labelme: {res.n_cases} cases of 2135x1568 in {dt:.1f} s = {res.n_cases / dt:.1f} cases/s "
        f"(target: {args.n} in < 60 s)"
    )
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
