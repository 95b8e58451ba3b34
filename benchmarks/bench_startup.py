"""Start-up cost of the command line: wall time and peak memory of ``antseg --help`` (and a few
``antseg COMMAND --help``), and the wall time of ``antseg report`` on 16 phantom scans, each a fresh process
started from the shell the way a user starts it.

Each figure is the median of ``--repeat`` runs (the machine may be shared: the median resists a busy neighbour).
Peak memory and CPU time (user + system) are the child's own, from ``os.wait4``: on a busy machine the CPU time
is the steadier figure, the wall time what a user waits. The phantom scans are made once (classic
style, 16 scans, seed 0) in a temporary folder; the report uses the shipped default models on the CPU.

    python benchmarks/bench_startup.py                  # --help x5, report x5 (about 2 minutes on 2 cores)
    python benchmarks/bench_startup.py --repeat 3 --no-report
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("predict", "--help"),
    ("report", "--help"),
    ("train", "seg", "--help"),
    ("data", "phantom", "asoct", "--help"),
)


def antseg_command() -> list[str]:
    """The ``antseg`` console script beside this interpreter, else ``python -m antseg``."""
    script = Path(sys.executable).with_name("antseg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "antseg"]


def timed_run(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one process; raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def median_run(cmd: list[str], repeat: int, before=None) -> tuple[float, ...]:
    """Median wall seconds, CPU seconds and peak MiB over ``repeat`` runs (``before()`` runs untimed before each)."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(timed_run(cmd))
    return tuple(statistics.median(r[i] for r in runs) for i in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per figure (median reported)")
    ap.add_argument("--no-report", action="store_true", help="skip the 16-scan report")
    args = ap.parse_args()
    antseg = antseg_command()
    env_note = f"{os.cpu_count()} CPUs, {' '.join(antseg)}"
    print(f"# antseg start-up ({env_note}), median of {args.repeat}")
    print("| command | wall (s) | CPU (s) | peak memory (MiB) |")
    print("|---|---|---|---|")
    for extra in HELP_COMMANDS:
        seconds, cpu, mib = median_run([*antseg, *extra], args.repeat)
        print(f"| antseg {' '.join(extra)} | {seconds:.2f} | {cpu:.2f} | {mib:.0f} |")
    if args.no_report:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        phantom = root / "phantom"
        subprocess.run(
            [*antseg, "data", "phantom", "asoct", str(phantom), "--n", "16"], check=True, capture_output=True
        )
        images = sorted((phantom / "images").iterdir())
        out = root / "report"
        cmd = [*antseg, "report", *map(str, images), "--out", str(out), "--device", "cpu"]
        seconds, cpu, mib = median_run(cmd, args.repeat, before=lambda: shutil.rmtree(out, ignore_errors=True))
        print(f"| antseg report (16 phantom scans) | {seconds:.2f} | {cpu:.2f} | {mib:.0f} |")


if __name__ == "__main__":
    main()
