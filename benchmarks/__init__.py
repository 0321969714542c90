"""Benchmarks for issue 9: one script per benchmark, each printing a table (see benchmarks/README.md)."""
