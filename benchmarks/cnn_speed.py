"""Forward + backward time of two small CNNs in glassgrad (F.* functions on leaf tensors) and in
PyTorch on the CPU, side by side.

    PYTHONPATH=src python benchmarks/cnn_speed.py [--threads N] [--repeat R]

Both libraries get the same number of threads: torch.set_num_threads(N) and the BLAS thread count
of NumPy (through OPENBLAS_NUM_THREADS etc., set before NumPy is imported). Each case is warmed up,
then timed R times (the two libraries taking turns); the median is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--repeat", type=int, default=20)
parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
args = parser.parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import glassgrad as gg  # noqa: E402
import glassgrad.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


def median_times(steps, repeat):
    """Median time of each step, the steps run in turn so that both see the same machine load."""
    for _ in range(3):
        for step in steps:
            step()
    times = [[] for _ in steps]
    for _ in range(repeat):
        for step, ts in zip(steps, times):
            t = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def make_case(layers, batch, in_shape, padding, rng):
    """Input and per-layer (weight, bias) arrays for Conv(k=3)-ReLU-MaxPool2 blocks."""
    x = rng.standard_normal((batch, *in_shape)).astype(args.dtype)
    params = []
    for cin, cout in layers:
        w = (rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(cin * 9)).astype(args.dtype)
        params.append((w, np.zeros(cout, dtype=args.dtype)))
    return x, params, padding


def glassgrad_step(x, params, padding):
    xt = gg.from_numpy(x)
    ps = [(gg.from_numpy(w.copy()).requires_grad_(), gg.from_numpy(b.copy()).requires_grad_())
          for w, b in params]

    def step():
        h = xt
        for w, b in ps:
            h = F.max_pool2d(F.relu(F.conv2d(h, w, b, padding=padding)), 2)
        h.sum().backward()
        for w, b in ps:
            w.grad = b.grad = None

    return step


def torch_step(x, params, padding):
    xt = torch.from_numpy(x)
    ps = [(torch.from_numpy(w.copy()).requires_grad_(), torch.from_numpy(b.copy()).requires_grad_())
          for w, b in params]

    def step():
        h = xt
        for w, b in ps:
            h = TF.max_pool2d(TF.relu(TF.conv2d(h, w, b, padding=padding)), 2)
        h.sum().backward()
        for w, b in ps:
            w.grad = b.grad = None

    return step


CASES = {
    "MNIST: Conv(1,32,3)-ReLU-MaxPool2-Conv(32,64,3)-ReLU-MaxPool2, 64x1x28x28":
        ([(1, 32), (32, 64)], 64, (1, 28, 28), 0),
    "3 blocks Conv3x3(pad 1)-ReLU-MaxPool2 (3->32->64->128), 32x3x64x64":
        ([(3, 32), (32, 64), (64, 128)], 32, (3, 64, 64), 1),
}

if __name__ == "__main__":
    rng = np.random.default_rng(0)
    print(f"threads={args.threads} dtype={args.dtype} repeat={args.repeat} (median, forward+backward)")
    for name, (layers, batch, in_shape, padding) in CASES.items():
        case = make_case(layers, batch, in_shape, padding, rng)
        t_gg, t_torch = median_times([glassgrad_step(*case), torch_step(*case)], args.repeat)
        print(f"{name}\n  glassgrad {t_gg * 1e3:7.1f} ms   torch {t_torch * 1e3:7.1f} ms   "
              f"ratio {t_gg / t_torch:.2f}")
