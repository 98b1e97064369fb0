"""Run the benchmarks: glassgrad and PyTorch side by side, on the same work, in one run.

    python benchmarks/run.py                 # all workloads
    python benchmarks/run.py mlp_fwd_bwd     # one workload
    python benchmarks/run.py --rounds 9 --no-memory
    python benchmarks/run.py --threads 1 2   # each workload on 1 thread, then on 2

For each workload it prints the median time per step of each library, their ratio
(glassgrad / PyTorch: below 1 means glassgrad is faster), the ratio of their CPU times (less
disturbed by other programs on a busy machine), and the peak memory each adds.
Both libraries run on the same number of threads: by default as many as NumPy's BLAS uses;
``--threads N`` limits NumPy's BLAS to N threads (threadpoolctl) and gives PyTorch N
(torch.set_num_threads), so e.g. ``--threads 1`` compares the two on one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import workloads  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", help=f"workloads to run (default all: {', '.join(workloads.WORKLOADS)})"
    )
    parser.add_argument("--rounds", type=int, default=7, help="blocks per library (default 7)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--threads", type=int, nargs="+", metavar="N",
                        help="thread counts to run each workload on (default: NumPy's BLAS threads)")
    args = parser.parse_args(argv)
    names = args.names or list(workloads.WORKLOADS)
    unknown = [n for n in names if n not in workloads.WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(workloads.WORKLOADS)}")

    import numpy as np
    import torch

    thread_counts = args.threads or [harness.numpy_blas_threads()]
    if min(thread_counts) < 1:
        parser.error(f"--threads should be positive, got {args.threads}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{args.rounds} rounds")
    print(f"{'workload':<18} {'threads':>7} {'glassgrad':>12} {'pytorch':>12} {'ratio':>7} {'cpu':>6} "
          f"{'mem gg':>9} {'mem torch':>10}")
    for name in names:
        wl = workloads.WORKLOADS[name]
        for threads in thread_counts:
            with harness.threads(threads):
                t = harness.time_blocks(wl.make("glassgrad"), wl.make("torch"), wl.steps_per_block,
                                        args.rounds)
            mem = ("", "")
            if not args.no_memory and threads == thread_counts[0]:
                mem = tuple(f"{harness.peak_memory_mib('workloads', name, lib):.1f}MiB"
                            for lib in ("glassgrad", "torch"))
            print(f"{name:<18} {threads:>7} {t.glassgrad_s * 1e6:>10.1f}us {t.torch_s * 1e6:>10.1f}us "
                  f"{t.ratio:>7.2f} {t.cpu_ratio:>6.2f} {mem[0]:>9} {mem[1]:>10}", flush=True)
        print(f"    {wl.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
