"""What every lab is made of: claims checked by numbers, figures, results and a report section.

A lab is a function ``run(ctx)`` that trains and measures, and records through the
:class:`LabContext` it is given: ``ctx.claim(...)`` for each of the lecture's claims with the
measured number and whether it holds, ``ctx.figure(...)`` for each plot, ``ctx.result(...)`` for
numbers worth keeping, ``ctx.text(...)`` for the report's prose. ``run_lab`` then writes
``results.json``, the PNG figures and ``section.md`` into the lab's output folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Claim:
    """One statement of the lecture, checked by a measurement."""

    text: str
    measured: str
    holds: bool
    expected: str = ""
    # in a run over several seeds: on how many of them it held (``holds`` means on all of them)
    seeds_held: int | None = None


@dataclass
class Lab:
    """A lab: which lecture it belongs to, what it shows, and the function that runs it."""

    name: str
    lecture: str
    title: str
    summary: str
    run: Callable[[LabContext], None]


@dataclass
class LabResult:
    """What a finished lab leaves behind (also written to its folder as results.json)."""

    name: str
    lecture: str
    title: str
    setting: str
    seed: int
    seconds: float
    claims: list[Claim]
    results: dict
    figures: list[str]
    text: list[str]
    error: str | None = None
    # a run over several seeds: all of them (``seed`` is the first, whose measured values, prose
    # and figures are shown); None for a run on one seed
    seeds: list[int] | None = None

    @property
    def all_hold(self) -> bool:
        return self.error is None and all(c.holds for c in self.claims)


@dataclass
class LabContext:
    """Given to a lab's ``run``: where to write, how big to run, and what it has recorded."""

    out_dir: Path
    full: bool = False
    seed: int = 0
    progress: bool = True
    blas_single_thread: bool = False  # set by run_lab: NumPy's BLAS limited to one thread
    claims: list[Claim] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def quick(self) -> bool:
        return not self.full

    def size(self, quick, full):
        """``quick`` in the quick setting, ``full`` in the full one."""
        return full if self.full else quick

    def claim(self, text: str, measured, holds: bool, expected: str = "") -> Claim:
        """Record a claim of the lecture, the number that checks it, and whether it holds."""
        c = Claim(text, _fmt(measured), bool(holds), expected)
        self.claims.append(c)
        return c

    def result(self, key: str, value) -> None:
        """Keep a number (or a small table) in results.json."""
        self.results[key] = _jsonable(value)

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as ``name``.png in the lab's folder and close it."""
        import matplotlib.pyplot as plt

        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(path.name)
        return path

    def write(self, markdown: str) -> None:
        """Add a paragraph (Markdown) to the lab's report section."""
        self.text.append(markdown.strip())

    def bar(self, iterable: Iterable, desc: str, total: int | None = None):
        """A progress bar over ``iterable`` (silent when progress is off)."""
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, total=total, disable=not self.progress, leave=False)


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_lab(lab: Lab, out_dir: Path, full: bool = False, seed: int = 0, progress: bool = True) -> LabResult:
    """Run one lab into ``out_dir`` and write its results.json and section.md there.

    A lab that raises is reported as failed (with the error) rather than stopping the course.
    """
    import matplotlib

    matplotlib.use("Agg")
    import glassgrad as gg
    from glassgrad.labs._blas import one_blas_thread

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gg.manual_seed(seed)
    ctx = LabContext(out_dir=out_dir, full=full, seed=seed, progress=progress)
    t0 = time.perf_counter()
    error = None
    try:
        with one_blas_thread() as limited:
            ctx.blas_single_thread = limited
            lab.run(ctx)
    except Exception as e:  # noqa: BLE001 - reported in the lab's result
        import traceback

        error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    result = LabResult(
        name=lab.name,
        lecture=lab.lecture,
        title=lab.title,
        setting="full" if full else "quick",
        seed=seed,
        seconds=round(time.perf_counter() - t0, 2),
        claims=ctx.claims,
        results=ctx.results,
        figures=ctx.figures,
        text=ctx.text,
        error=error,
    )
    (out_dir / "results.json").write_text(json.dumps(_result_dict(result), indent=2))
    from glassgrad.labs.report import lab_markdown

    (out_dir / "section.md").write_text(lab_markdown(result, figure_prefix=""))
    return result


def run_lab_seeds(lab: Lab, out_dir: Path, seeds: list[int], full: bool = False,
                  progress: bool = True) -> LabResult:
    """Run one lab once per seed and merge the runs: each claim says on how many seeds it held,
    and holds only if it held on every one. With one seed this is ``run_lab``; with several, seed
    s is run into ``out_dir/seed-s`` and the merged results.json and section.md go to ``out_dir``."""
    if len(seeds) == 1:
        return run_lab(lab, out_dir, full=full, seed=seeds[0], progress=progress)
    out_dir = Path(out_dir)
    runs = [run_lab(lab, out_dir / f"seed-{s}", full=full, seed=s, progress=progress) for s in seeds]
    return write_merged(runs, out_dir)


def write_merged(runs: list[LabResult], out_dir: Path) -> LabResult:
    """Merge one lab's runs on several seeds (each run into ``out_dir/seed-<s>``) and write the
    merged results.json and section.md into ``out_dir``."""
    merged = merge_seeds(runs)
    (Path(out_dir) / "results.json").write_text(json.dumps(_result_dict(merged), indent=2))
    from glassgrad.labs.report import lab_markdown

    (Path(out_dir) / "section.md").write_text(lab_markdown(merged, figure_prefix=""))
    return merged


def merge_seeds(runs: list[LabResult]) -> LabResult:
    """One result for runs of the same lab on several seeds (run into folders ``seed-<s>``).

    Claims are matched by their text: a claim holds on a seed if that seed's run has it and it
    holds there (a run that stopped early, or raised, lacks some claims: they did not hold). The
    measured values, prose and figures shown are the first seed's; ``results`` keeps each seed's.
    """
    first = runs[0]
    texts = list(dict.fromkeys(c.text for r in runs for c in r.claims))  # first seen order, no repeats
    claims = []
    for text in texts:
        found = [(r.seed, next((c for c in r.claims if c.text == text), None)) for r in runs]
        held = sum(c is not None and c.holds for _, c in found)
        seed, shown = next((s, c) for s, c in found if c is not None)
        measured = shown.measured if seed == first.seed else f"(seed {seed}) {shown.measured}"
        claims.append(Claim(text, measured, held == len(runs), shown.expected, seeds_held=held))
    errors = [f"seed {r.seed}: {r.error}" for r in runs if r.error]
    return LabResult(
        name=first.name,
        lecture=first.lecture,
        title=first.title,
        setting=first.setting,
        seed=first.seed,
        seconds=round(sum(r.seconds for r in runs), 2),
        claims=claims,
        results={f"seed {r.seed}": r.results for r in runs},
        figures=[f"seed-{first.seed}/{f}" for f in first.figures],
        text=first.text,
        error="\n".join(errors) if errors else None,
        seeds=[r.seed for r in runs],
    )


def _result_dict(r: LabResult) -> dict:
    d = asdict(r)
    d["all_hold"] = r.all_hold
    return d
