"""torch is only the oracle here, on tiny tensors: one thread avoids its threading overhead,
which on a small shared machine costs far more than the arithmetic."""

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
