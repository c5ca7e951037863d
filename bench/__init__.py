"""Benchmarks: each compares this project with a reference measured in the same run."""
