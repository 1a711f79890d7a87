"""The benchmark suite: ``python -m benchmarks`` runs it and records BENCHMARKS.md."""
