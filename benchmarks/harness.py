"""Timing and memory measurement for side-by-side benchmarks of glassgrad and PyTorch.

Timing is done in blocks: a run of glassgrad steps, then a run of PyTorch steps, for several
rounds, and each library's per-step time is the median over its blocks. Alternating single steps
would make the two libraries' thread pools contend on a small machine and distort both.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Timing:
    glassgrad_s: float
    torch_s: float
    glassgrad_cpu_s: float = float("nan")  # process CPU time per step (all threads)
    torch_cpu_s: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.glassgrad_s / self.torch_s

    @property
    def cpu_ratio(self) -> float:
        """The ratio of CPU times: on a busy machine other programs disturb it less than the
        wall-clock ratio (they delay a step more than they make it compute more)."""
        return self.glassgrad_cpu_s / self.torch_cpu_s


def time_blocks(gg_step, torch_step, steps_per_block: int, rounds: int, warmup: int = 3) -> Timing:
    """Median seconds per step of each library (wall clock and process CPU time), timed in
    alternating blocks."""
    for _ in range(warmup):
        gg_step()
        torch_step()
    wall = {"gg": [], "torch": []}
    cpu = {"gg": [], "torch": []}
    for _ in range(rounds):
        for name, step in (("gg", gg_step), ("torch", torch_step)):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps_per_block):
                step()
            wall[name].append((time.perf_counter() - t0) / steps_per_block)
            cpu[name].append((time.process_time() - c0) / steps_per_block)
    med = statistics.median
    return Timing(med(wall["gg"]), med(wall["torch"]), med(cpu["gg"]), med(cpu["torch"]))


def peak_memory_mib(module: str, workload: str, library: str, steps: int = 5) -> float:
    """Peak resident memory (MiB) that ``steps`` steps of one library's workload add on top of
    the process after set-up, measured in a fresh process: one warm-up step, free memory given
    back to the OS (malloc_trim), the kernel's high-water mark reset (/proc/self/clear_refs),
    then the steps; the result is the new high-water mark minus the resident size before them."""
    code = (
        "import ctypes, sys, json\n"
        f"sys.path.insert(0, {json.dumps(sys.path[0])})\n"
        f"import {module} as m\n"
        f"step = m.WORKLOADS[{workload!r}].make({library!r})\n"
        "step()\n"
        "ctypes.CDLL('libc.so.6').malloc_trim(0)\n"
        "def status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key): return int(line.split()[1])\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = status('VmRSS')\n"
        f"for _ in range({steps}): step()\n"
        "print(json.dumps((status('VmHWM') - before) / 1024))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        return float("nan")  # e.g. no /proc: memory is not measured on this system
    return float(out.stdout.strip().splitlines()[-1])


def numpy_blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (so PyTorch can be given the same)."""
    try:
        import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return int(infos[0]["num_threads"])
    except ImportError:
        pass
    import os

    return os.cpu_count() or 1


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run both libraries on ``n`` threads inside the block: NumPy's BLAS limited to ``n``
    (threadpoolctl) and ``torch.set_num_threads(n)``; both are restored afterwards."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)
