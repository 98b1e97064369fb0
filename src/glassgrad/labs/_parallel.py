"""Run several labs (and seeds) at once, one process per core.

Every lab computes on one BLAS thread (see ``_blas.py``), so a course run in one process leaves
all cores but one idle. Here each run of a lab on a seed is a task for a pool of worker
processes, handed out in the course's order; the results come back in that order, merged over
seeds as ``run_lab_seeds`` merges them. On Linux the workers are forked (before the parent has run
any lab: each sets its own one-thread BLAS limit); elsewhere, where forking a process with
threads is unsafe, they are spawned. Forked workers also leave nothing behind when Ctrl-C
terminates them (spawned ones register their queues' semaphores with a tracker process, which
then warns of leaks).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path

from glassgrad.datasets.digits import MNISTFallbackWarning
from glassgrad.labs._lab import Lab, LabResult, run_lab, run_lab_seeds, write_merged


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the OS says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _run_in_worker(lab: Lab, out_dir: Path, full: bool, seed: int) -> tuple[LabResult, list[str]]:
    """One lab on one seed, in a worker process (the lab is pickled by reference to its module's
    ``run``); also hands back the MNIST-fallback warnings it raised, for the parent to show once
    (a worker's own warnings would print once per lab)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MNISTFallbackWarning)
        result = run_lab(lab, out_dir, full=full, seed=seed, progress=False)
    fallback = [str(w.message) for w in caught if issubclass(w.category, MNISTFallbackWarning)]
    for w in caught:  # any other warning is shown as it would have been in one process
        if not issubclass(w.category, MNISTFallbackWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, fallback


def run_labs(labs: list[Lab], out: Path, seeds: list[int], full: bool = False, progress: bool = True,
             jobs: int = 1, on_start: Callable[[Lab], None] | None = None,
             on_done: Callable[[LabResult], None] | None = None) -> list[LabResult]:
    """Run each lab on each seed into ``out/<lab>`` (``out/<lab>/seed-<s>`` for several seeds) and
    return one result per lab, in the order given.

    ``jobs`` is the number of worker processes; with 1 everything runs here, one lab after the
    other, with progress bars. With more, the runs go to a process pool and progress bars are
    off (several bars at once would garble each other). ``on_start`` is called as a lab is
    started (in one process) and ``on_done`` as each lab's last seed finishes.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs}")
    multi = len(seeds) > 1
    if jobs == 1:
        results = []
        for lab in labs:
            if on_start:
                on_start(lab)
            result = run_lab_seeds(lab, out / lab.name, seeds, full=full, progress=progress)
            if on_done:
                on_done(result)
            results.append(result)
        return results

    tasks = [(lab, seed) for lab in labs for seed in seeds]
    runs: dict[str, dict[int, LabResult]] = {lab.name: {} for lab in labs}
    merged: dict[str, LabResult] = {}
    args = [(lab, out / lab.name / f"seed-{seed}" if multi else out / lab.name, full, seed) for lab, seed in tasks]
    # Ctrl-C reaches every process of the terminal's foreground group: the workers ignore it and
    # the parent, on KeyboardInterrupt, terminates them (no half-written tracebacks from each). A
    # Ctrl-C while the workers start would leave a half-built pool (and its semaphores) behind, so
    # SIGINT is held until the pool exists and arrives inside the ``try`` that shuts it down.
    held = _hold_sigint()
    pool = None
    try:
        start = "fork" if sys.platform.startswith("linux") else "spawn"
        pool = get_context(start).Pool(min(jobs, len(tasks)), initializer=_ignore_sigint)
        _release_sigint(held)
        for (lab, seed), (result, fallback) in zip(tasks, pool.imap(_run_task, args), strict=True):
            # imap hands the results back in the order of the tasks, while the pool keeps every
            # worker busy; a lab is reported once its last seed is in
            for message in fallback:
                warnings.warn(message, MNISTFallbackWarning, stacklevel=2)
            runs[lab.name][seed] = result
            if len(runs[lab.name]) == len(seeds):
                ordered = [runs[lab.name][s] for s in seeds]
                merged[lab.name] = write_merged(ordered, out / lab.name) if multi else result
                if on_done:
                    on_done(merged[lab.name])
    except BaseException:
        if pool is not None:
            pool.terminate()
        raise
    finally:
        _release_sigint(held)
        if pool is not None:
            pool.close()
            pool.join()
    return [merged[lab.name] for lab in labs]


def _hold_sigint():
    """Block SIGINT in this thread (where the OS can); returns the signal mask to restore."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_sigint(held) -> None:
    """Restore the mask ``_hold_sigint`` replaced (a SIGINT held meanwhile is delivered now)."""
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_task(args: tuple) -> tuple[LabResult, list[str]]:
    return _run_in_worker(*args)
