"""Neural-network building blocks with PyTorch's names: ``Module`` and ``Parameter``, layers,
losses, ``init`` (weight initializations), ``utils`` (gradient clipping, parameter counts, spectral norm) and
``functional`` (the functional forms, imported as F)."""

from glassgrad.nn import functional, init, utils
from glassgrad.nn.modules import *  # noqa: F403
from glassgrad.nn.modules import __all__ as _modules_all
from glassgrad.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils", *_modules_all]
