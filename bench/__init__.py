"""Benchmarks for VRP Desktop. Figures are measured and printed beside a baseline measured in
the same run; nothing here asserts a target. Run ``python -m bench.bench_store --help``."""
