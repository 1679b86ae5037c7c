"""Benchmarks that print figures, never assertions; each compares with a baseline from the same run."""
