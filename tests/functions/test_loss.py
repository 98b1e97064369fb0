"""nll_loss and cross_entropy against PyTorch: class weights, ignore_index, every reduction,
extra (spatial) dims, and the errors of bad targets."""

import numpy as np

from tests.oracle import check, uniform


def test_cross_entropy_unbatched_input():
    # torch accepts logits (C,) with a 0-d target
    x = uniform(np.random.default_rng(0), (4,))
    check(lambda m, t: m.nn.functional.cross_entropy(t, m.tensor(2)), [x])
    check(lambda m, t: m.nn.functional.nll_loss(t, m.tensor(1), reduction="none"), [x])
