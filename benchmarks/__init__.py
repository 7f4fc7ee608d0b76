"""Benchmarks: the peer-comparison harness (``python -m benchmarks.harness``).

Not tests and not part of the package: they measure, they do not assert.
"""
