"""Fidelity metrics of the paper (DESIGN.md section 6)."""
from .metrics import autocorrelation, autocorrelation_mse, jensen_shannon_divergence

__all__ = ["autocorrelation", "autocorrelation_mse", "jensen_shannon_divergence"]
