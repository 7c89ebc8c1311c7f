"""Differential privacy: DP-SGD on the critics with its per-example clipping, epsilon
accounting and the privacy budget callback."""
