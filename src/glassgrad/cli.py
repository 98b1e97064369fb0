"""The ``glassgrad`` command: ``glassgrad course`` runs every lab and writes the course report;
``glassgrad lab list`` / ``glassgrad lab run NAME`` work with one lab at a time.

A user's mistake (a bad option value, an output folder that cannot be written) is one line on
stderr and exit code 2, never a traceback; Ctrl-C is one line and exit code 130 (128 + SIGINT),
as shells expect.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from glassgrad import __version__

# numpy's seeding takes 32-bit seeds; keeping to them lets a lab pass its seed anywhere
SEED_MAX = 2**32 - 1
# each seed is a full run of every lab: a longer --seeds list is a typo, not a plan
MAX_SEEDS = 1000


class UsageError(Exception):
    """A mistake in how the command was called: reported as one line, exit code 2."""


def _labs():
    from glassgrad import labs

    return labs


def _cmd_lab_list(args: argparse.Namespace) -> int:
    all_labs = _labs().all_labs()
    if not all_labs:
        print("no labs yet")
    width = max((len(lab.name) for lab in all_labs), default=0)
    for lab in all_labs:
        print(f"{lab.name:<{width}}  {lab.lecture:<16} {lab.summary}")
    return 0


def _check_seed(seed: int) -> None:
    if not 0 <= seed <= SEED_MAX:
        raise UsageError(f"--seed must be an integer from 0 to {SEED_MAX}, got {seed}")


def parse_seeds(spec: str) -> list[int]:
    """``--seeds``: one seed ("3"), a range ("0-4", both ends included), or a comma-separated list
    of those ("0,2,3" or "0-2,7"); each seed from 0 to SEED_MAX, none given twice, at most
    MAX_SEEDS of them."""
    expected = f"--seeds must be a seed (3), a range (0-4) or a list (0,2,3) of integers from 0 to {SEED_MAX}"
    seeds: list[int] = []
    given: set[int] = set()
    for part in spec.split(","):
        ends = part.strip().split("-")
        if not 1 <= len(ends) <= 2 or not all(re.fullmatch(r"\s*[0-9]+\s*", e) for e in ends):
            raise UsageError(f"{expected}, got {spec!r}")
        low, high = int(ends[0]), int(ends[-1])
        if high > SEED_MAX:
            raise UsageError(f"{expected}, got {spec!r} ({high} is too large)")
        if high < low:
            raise UsageError(f"{expected}, got {spec!r} (the range {part.strip()} ends below its start)")
        if len(seeds) + high - low + 1 > MAX_SEEDS:
            raise UsageError(f"{expected}, got {spec!r} (more than {MAX_SEEDS} seeds)")
        for seed in range(low, high + 1):
            if seed in given:
                raise UsageError(f"{expected}, got {spec!r} (seed {seed} is given twice)")
            given.add(seed)
            seeds.append(seed)
    return seeds


def _seeds(args: argparse.Namespace) -> list[int]:
    """The seeds to run: those of --seeds, else the one of --seed."""
    if args.seeds is not None:
        return parse_seeds(args.seeds)
    _check_seed(args.seed)
    return [args.seed]


def _jobs(args: argparse.Namespace, runs: int) -> int:
    """How many lab runs go at once: --jobs, or one per usable core; never more than there are runs."""
    from glassgrad.labs._parallel import usable_cores

    if args.jobs is None:
        return max(1, min(usable_cores(), runs))
    if args.jobs < 1:
        raise UsageError(f"--jobs must be a positive integer, got {args.jobs}")
    return min(args.jobs, runs)


def _writable_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and check that a file can be written in it, so
    that a bad ``--out`` fails at once instead of after minutes of training."""
    try:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            where = "" if existing == path else f" ({existing})"
            raise UsageError(f"--out {path}{where} is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise UsageError(f"cannot write to the output folder {path}: {e.strerror or e}") from None
    return path


def _cmd_lab_run(args: argparse.Namespace) -> int:
    labs = _labs()
    try:
        lab = labs.get_lab(args.name)
    except KeyError as e:
        raise UsageError(e.args[0]) from None
    seeds = _seeds(args)
    jobs = _jobs(args, len(seeds))
    base = _writable_folder(Path(args.out))
    out = _writable_folder(base / lab.name)
    if jobs > 1:
        print(f"running {lab.name} on {len(seeds)} seeds, {jobs} at a time ...", flush=True)
    from glassgrad.labs._parallel import run_labs

    (result,) = run_labs([lab], base, seeds, full=args.full, progress=not args.quiet, jobs=jobs)
    _print_result(result)
    each = f" (each seed's run in {out}/seed-N)" if len(seeds) > 1 else ""
    print(f"wrote {out}/results.json, {out}/section.md and {len(result.figures)} figure(s){each}")
    return 0 if result.all_hold else 1


def _print_result(result) -> None:
    mark = "ok" if result.all_hold else "FAILED"
    print(f"[{mark}] {result.name} ({result.lecture}) in {result.seconds:.1f} s")
    for c in result.claims:
        on_seeds = f" on {c.seeds_held}/{len(result.seeds)} seeds" if result.seeds else ""
        print(f"    {'holds' if c.holds else 'FAILS'}{on_seeds}: {c.text} -- measured {c.measured}")
    if result.error:
        print("    error: " + result.error.strip().splitlines()[0])


def _cmd_course(args: argparse.Namespace) -> int:
    labs = _labs()
    all_labs = labs.all_labs()
    if not all_labs:
        # Until the labs exist, the course is lecture 1's first experiment.
        from glassgrad import demo

        demo.fit_line_demo()
        return 0
    from glassgrad.labs._parallel import run_labs
    from glassgrad.labs.report import format_seeds, write_course_report

    seeds = _seeds(args)
    jobs = _jobs(args, len(all_labs) * len(seeds))
    out = _writable_folder(Path(args.out))
    t0 = time.perf_counter()
    on_seeds = f" on seeds {format_seeds(seeds)}" if len(seeds) > 1 else ""

    def on_start(lab):
        print(f"running {lab.name} ({lab.lecture}){on_seeds} ...", flush=True)

    if jobs > 1:
        print(f"running {len(all_labs)} labs{on_seeds}, {jobs} at a time (each on one core; --jobs 1 runs them "
              "one after the other with progress bars) ...", flush=True)
    results = run_labs(all_labs, out, seeds, full=args.full, progress=not args.quiet, jobs=jobs,
                       on_start=on_start, on_done=_print_result)
    index = write_course_report(results, out)
    held = sum(c.holds for r in results for c in r.claims)
    total = sum(len(r.claims) for r in results)
    every = f" on every one of the seeds {format_seeds(seeds)}" if len(seeds) > 1 else ""
    print(f"\n{held} of {total} claims hold{every}; {time.perf_counter() - t0:.0f} s in all")
    print(f"report: {index} (also report.md and results.json)")
    return 0 if all(r.all_hold for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgrad",
        description="glassgrad: run Hung-yi Lee's ML 2021 Spring course on a from-scratch library.",
    )
    parser.add_argument("--version", action="version", version=f"glassgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_run_options(p, out_default):
        setting = p.add_mutually_exclusive_group()
        setting.add_argument("--quick", dest="full", action="store_false",
                             help="the quick setting, minutes on a laptop (the default)")
        setting.add_argument("--full", action="store_true", help="the full setting, closer to the lecture's scale")
        # both options set ``full``; argparse takes the default of the first one given (--quick's,
        # True for a store_false), so the quick default must be set explicitly
        p.set_defaults(full=False)
        p.add_argument("--out", default=out_default, metavar="DIR", help=f"output folder (default {out_default})")
        seeding = p.add_mutually_exclusive_group()
        seeding.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
        seeding.add_argument("--seeds", metavar="LIST",
                             help="run on several seeds, e.g. 0-4 or 0,2,3; a claim holds only if it holds on "
                             "each, and the report says on how many it held")
        p.add_argument("--quiet", action="store_true", help="no progress bars, no warning that MNIST is missing")
        p.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="run N labs (or seeds) at once, each in its own process on one core (default: one per "
                       "core); with 1, one after the other, with progress bars")

    course = sub.add_parser(
        "course",
        help="run every lab and write the course report",
        description="Run every lab (quick setting unless --full) and write index.html, report.md "
        "and results.json with each lecture's claims checked by measured numbers.",
    )
    add_run_options(course, "glassgrad-report")
    course.set_defaults(func=_cmd_course, parser=course)

    lab = sub.add_parser("lab", help="list or run single labs", description="List or run single labs.")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    lab_list = lab_sub.add_parser("list", help="the labs, one line each", description="List the labs.")
    lab_list.set_defaults(func=_cmd_lab_list, parser=lab_list)
    lab_run = lab_sub.add_parser("run", help="run one lab", description="Run one lab and write its results.")
    lab_run.add_argument("name", help="the lab's name (see `glassgrad lab list`)")
    add_run_options(lab_run, "glassgrad-report")
    lab_run.set_defaults(func=_cmd_lab_run, parser=lab_run)
    lab.set_defaults(func=lambda args: (lab.print_help(), 2)[1], parser=lab)
    return parser


@contextlib.contextmanager
def _short_warnings(quiet: bool) -> Iterator[None]:
    """Show the warning that MNIST is missing as one line, once per run (not once per lab, nor
    with the source line that Python's default format adds), and not at all when ``quiet``."""
    from glassgrad.datasets.digits import MNISTFallbackWarning

    shown: set[str] = set()
    default_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, MNISTFallbackWarning):
            default_show(message, category, filename, lineno, file, line)
        elif str(message) not in shown:
            shown.add(str(message))
            print(f"glassgrad: {message}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "always", MNISTFallbackWarning)
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # argparse leaves an unknown option after a subcommand to the top-level parser, which would
    # answer with its own usage; the subcommand's usage is the one that helps
    args, unknown = parser.parse_known_args(argv)
    command_parser = getattr(args, "parser", parser)
    if unknown:
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        with _short_warnings(quiet=getattr(args, "quiet", False)):
            return args.func(args)
    except UsageError as e:
        print(f"{command_parser.prog}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{parser.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
