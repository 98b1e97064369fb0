"""Batches per second of DataLoader over MNIST-sized in-memory data (60000 x 784 float32, int64
labels, batch 64), shuffled and not, on the TensorDataset fast path and, for comparison, through
per-sample __getitem__ + default_collate, and PyTorch's DataLoader on the same data.

    PYTHONPATH=src python benchmarks/dataloader_throughput.py
"""

import time

import numpy as np

import glassgrad as gg
from glassgrad.utils.data import DataLoader, TensorDataset, default_collate


def batches_per_second(loader, epochs: int = 3, max_batches: int | None = None) -> float:
    best = 0.0
    for _ in range(epochs):
        start, n = time.perf_counter(), 0
        for _batch in loader:
            n += 1
            if max_batches is not None and n == max_batches:
                break
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = gg.from_numpy(rng.random((60000, 784), dtype=np.float32))
    y = gg.from_numpy(rng.integers(0, 10, 60000))
    ds = TensorDataset(x, y)
    for shuffle in (False, True):
        loader = DataLoader(ds, batch_size=64, shuffle=shuffle, generator=gg.Generator(0))
        print(f"fast path, shuffle={shuffle}: {batches_per_second(loader):,.0f} batches/s "
              f"({len(loader)} batches per epoch)")
    generic = DataLoader(ds, batch_size=64, shuffle=True, collate_fn=lambda s: default_collate(s))
    print(f"per-sample collate, shuffle=True: {batches_per_second(generic, 1, 200):,.0f} batches/s")
    try:
        import torch
        import torch.utils.data as tud
    except ImportError:
        return
    theirs = tud.DataLoader(tud.TensorDataset(torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())),
                            batch_size=64, shuffle=True)
    print(f"PyTorch DataLoader, shuffle=True: {batches_per_second(theirs, 1, 300):,.0f} batches/s")


if __name__ == "__main__":
    main()
