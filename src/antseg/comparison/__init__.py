"""Method comparison (``antseg benchmark``): every method on one dataset and split, scored by one metrics code."""

from antseg.comparison.config import BenchmarkConfig
from antseg.comparison.runner import BenchmarkResult, run_benchmark

__all__ = ["BenchmarkConfig", "BenchmarkResult", "run_benchmark"]
