"""Optimizers (``glassgrad.optim``) and learning-rate schedules (``glassgrad.optim.lr_scheduler``),
with PyTorch's names, options, state names and state-dict layout. The update rule of each
optimizer is in its docstring and in docs/optimizers.md."""

from glassgrad.optim import lr_scheduler
from glassgrad.optim.adagrad import Adagrad
from glassgrad.optim.adam import Adam, AdamW
from glassgrad.optim.optimizer import Optimizer
from glassgrad.optim.rmsprop import RMSprop
from glassgrad.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
