"""The ``glassgrad`` command: ``glassgrad course`` runs every lab and writes the course report;
``glassgrad lab list`` / ``glassgrad lab run NAME`` work with one lab at a time."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


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


def _cmd_lab_run(args: argparse.Namespace) -> int:
    labs = _labs()
    try:
        lab = labs.get_lab(args.name)
    except KeyError as e:
        print(f"glassgrad lab run: {e.args[0]}", file=sys.stderr)
        return 2
    out = Path(args.out) / lab.name
    result = labs.run_lab(lab, out, full=args.full, seed=args.seed, progress=not args.quiet)
    _print_result(result)
    print(f"wrote {out}/results.json, {out}/section.md and {len(result.figures)} figure(s)")
    return 0 if result.all_hold else 1


def _print_result(result) -> None:
    mark = "ok" if result.all_hold else "FAILED"
    print(f"[{mark}] {result.name} ({result.lecture}) in {result.seconds:.1f} s")
    for c in result.claims:
        print(f"    {'holds' if c.holds else 'FAILS'}: {c.text} -- measured {c.measured}")
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
    from glassgrad.labs.report import write_course_report

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    for lab in all_labs:
        print(f"running {lab.name} ({lab.lecture}) ...", flush=True)
        result = labs.run_lab(lab, out / lab.name, full=args.full, seed=args.seed, progress=not args.quiet)
        _print_result(result)
        results.append(result)
    index = write_course_report(results, out)
    held = sum(c.holds for r in results for c in r.claims)
    total = sum(len(r.claims) for r in results)
    print(f"\n{held} of {total} claims hold; {time.perf_counter() - t0:.0f} s in all")
    print(f"report: {index} (also report.md and results.json)")
    return 0 if all(r.all_hold for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgrad",
        description="glassgrad: run Hung-yi Lee's ML 2021 Spring course on a from-scratch library.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_run_options(p, out_default):
        p.add_argument("--full", action="store_true", help="the full setting, closer to the lecture's scale")
        p.add_argument("--out", default=out_default, metavar="DIR", help=f"output folder (default {out_default})")
        p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    course = sub.add_parser(
        "course",
        help="run every lab and write the course report",
        description="Run every lab (quick setting unless --full) and write index.html, report.md "
        "and results.json with each lecture's claims checked by measured numbers.",
    )
    add_run_options(course, "glassgrad-report")
    course.set_defaults(func=_cmd_course)

    lab = sub.add_parser("lab", help="list or run single labs", description="List or run single labs.")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    lab_list = lab_sub.add_parser("list", help="the labs, one line each", description="List the labs.")
    lab_list.set_defaults(func=_cmd_lab_list)
    lab_run = lab_sub.add_parser("run", help="run one lab", description="Run one lab and write its results.")
    lab_run.add_argument("name", help="the lab's name (see `glassgrad lab list`)")
    add_run_options(lab_run, "glassgrad-report")
    lab_run.set_defaults(func=_cmd_lab_run)
    lab.set_defaults(func=lambda args: (lab.print_help(), 2)[1])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
