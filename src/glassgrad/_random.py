"""Random numbers: one default generator, seeded by ``manual_seed``, behind every random draw of
the library (creation, initialization, dropout, shuffling), so a seeded run is reproducible.

glassgrad draws with NumPy's PCG64, not PyTorch's Mersenne Twister: the same seed gives
reproducible numbers in glassgrad, but not the same numbers as in PyTorch.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A source of random numbers with its own state, like ``torch.Generator``."""

    def __init__(self, seed: int | None = None):
        self._rng = np.random.default_rng(seed)
        self._seed = seed

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
        self._rng = np.random.default_rng(int(seed))
        self._seed = int(seed)
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state, a JSON-serializable dict (for checkpoints)."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state

    # the draws used by the library
    def normal(self, mean, std, shape):
        return self._rng.normal(mean, std, shape)

    def uniform(self, a, b, shape):
        return self._rng.uniform(a, b, shape)

    def standard_normal(self, shape, dtype):
        return self._rng.standard_normal(shape, dtype=dtype)

    def random(self, shape, dtype):
        return self._rng.random(shape, dtype=dtype)

    def integers(self, low, high, shape):
        return self._rng.integers(low, high, shape, dtype=np.int64)

    def permutation(self, n):
        return self._rng.permutation(n).astype(np.int64)

    def bernoulli(self, p, shape):
        return self._rng.random(shape) < p


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: every later random draw of glassgrad is reproducible."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's entropy; return the seed."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int | None:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def _generator_of(generator: Generator | None) -> Generator:
    return default_generator if generator is None else generator
