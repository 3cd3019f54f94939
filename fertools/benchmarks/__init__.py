"""Benchmarks run by ``tools/benchmark.py``; each module exposes ``add_arguments(parser)`` and ``run(args)``."""
