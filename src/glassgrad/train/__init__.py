"""A training loop: ``fit`` trains a model for some epochs (validation, metrics, learning-rate
schedule, early stopping, best weights, checkpoints and resume, a progress bar) and returns the
``History`` of every epoch; ``evaluate`` measures a model on a loader.

    history = gg.train.fit(model, optimizer, F.cross_entropy, train_loader, val_loader, epochs=10,
                           metrics={"acc": gg.train.accuracy}, checkpoint="run.ckpt")
"""

from glassgrad.train.history import History
from glassgrad.train.loop import accuracy, evaluate, fit

__all__ = ["History", "accuracy", "evaluate", "fit"]
