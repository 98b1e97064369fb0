"""torch is only the oracle here, on tiny tensors: one thread avoids its threading overhead,
which on a small shared machine costs far more than the arithmetic.

(Test files are named test_nn_*.py so that their module names stay unique across the suite.)"""

import torch

torch.set_num_threads(1)
