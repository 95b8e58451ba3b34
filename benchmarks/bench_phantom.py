"""Phantom generation speed: AS-OCT scans per second on one core (target >= 20 at 2130x998).

Usage: python benchmarks/bench_phantom.py [--n 60] [--size 2130x998]
Rendering only (no file writing), single process, after one warm-up scan.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from antseg.anatomy import DIAGNOSIS_GROUPS as DIAGNOSIS_CYCLE
from antseg.data.phantom.asoct import NoiseBank, generate_scan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--size", default="2130x998")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    bank = NoiseBank(h, w, 0)
    generate_scan("normal", 0, 0, (w, h), (0.0075, 0.0075), bank)
    t = time.perf_counter()
    for i in range(args.n):
        generate_scan(DIAGNOSIS_CYCLE[i % 4], 0, i, (w, h), (0.0075, 0.0075), bank)
    dt = time.perf_counter() - t
    print(f"AS-OCT phantom {w}x{h}: {args.n / dt:.1f} scans/s ({1000 * dt / args.n:.1f} ms/scan, one core)")


if __name__ == "__main__":
    main()
