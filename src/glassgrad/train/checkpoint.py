"""What a training checkpoint holds besides the model and optimizer: the state of every random
number generator that the run draws from, so that a resumed run continues exactly as an
uninterrupted one would (same shuffles, same dropout masks)."""

from __future__ import annotations

import random

import numpy as np

from glassgrad._random import Generator, default_generator
from glassgrad._tensor import Tensor


def loader_generators(*loaders) -> list[Generator]:
    """The distinct glassgrad Generators that the loaders shuffle with (their own ``generator``,
    or their sampler's), in a fixed order. Loaders that use the default generator add none."""
    found: list[Generator] = []
    for loader in loaders:
        if loader is None:
            continue
        sampler = getattr(loader, "sampler", None)
        batch_sampler = getattr(loader, "batch_sampler", None)
        candidates = (getattr(loader, "generator", None), getattr(sampler, "generator", None),
                      getattr(getattr(batch_sampler, "sampler", None), "generator", None))
        for g in candidates:
            if isinstance(g, Generator) and all(g is not f for f in found):
                found.append(g)
    return found


def rng_state(generators: list[Generator]) -> dict:
    """The states of glassgrad's default generator, of ``generators``, and of NumPy's and
    Python's global generators (which user code, e.g. a data augmentation, may draw from)."""
    return {
        "glassgrad": default_generator.get_state(),
        "loaders": [g.get_state() for g in generators],
        "numpy": np.random.get_state(legacy=False),
        "python": random.getstate(),
    }


def set_rng_state(state: dict, generators: list[Generator]) -> None:
    if len(state["loaders"]) != len(generators):
        raise ValueError(
            f"the checkpoint holds the state of {len(state['loaders'])} loader generator(s), but the "
            f"loaders given shuffle with {len(generators)}; resume with loaders built as in the "
            "original run (same generator= arguments)"
        )
    default_generator.set_state(state["glassgrad"])
    for g, s in zip(generators, state["loaders"]):
        g.set_state(s)
    np.random.set_state(state["numpy"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def copy_state(state):
    """A deep copy of a (nested) state dict: new arrays for every tensor, so that later training
    steps do not change it (how the best weights are kept)."""
    if isinstance(state, Tensor):
        return Tensor._wrap(state._data.copy(), False)
    if isinstance(state, np.ndarray):
        return state.copy()
    if isinstance(state, dict):
        return type(state)((k, copy_state(v)) for k, v in state.items())
    if isinstance(state, (list, tuple)):
        return type(state)(copy_state(v) for v in state)
    return state
