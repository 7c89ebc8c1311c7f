"""Fidelity metrics of the paper (DESIGN.md section 6)."""
from .metrics import autocorrelation, autocorrelation_mse

__all__ = ["autocorrelation", "autocorrelation_mse"]
