"""The course's labs, one module per lecture (or pair of lectures). The library never imports
them; the ``glassgrad`` command does.

Each lab module defines ``LAB``, a :class:`~glassgrad.labs._lab.Lab`. Their order here is the
course's order.
"""

from __future__ import annotations

import importlib

from glassgrad.labs._lab import Claim, Lab, LabContext, LabResult, merge_seeds, run_lab, run_lab_seeds

# module names, in the course's order; each defines LAB
_LAB_MODULES: list[str] = [
    "regression",
    "piecewise",
    "strategy",
    "critical_points",
    "batch_momentum",
    "adaptive_lr",
    "classification_loss",
    "cnn",
    "self_attention",
    "transformer",
    "gan",
]


def all_labs() -> list[Lab]:
    """Every lab, in the course's order."""
    return [importlib.import_module(f"glassgrad.labs.{m}").LAB for m in _LAB_MODULES]


def get_lab(name: str) -> Lab:
    """The lab called ``name``; a KeyError lists the known names."""
    for lab in all_labs():
        if lab.name == name:
            return lab
    raise KeyError(f"unknown lab {name!r}; known labs: {', '.join(lab.name for lab in all_labs())}")


__all__ = ["Claim", "Lab", "LabContext", "LabResult", "all_labs", "get_lab", "merge_seeds", "run_lab", "run_lab_seeds"]
