"""The ``glassgrad`` command: runs the course (``glassgrad course``) and its parts."""

from __future__ import annotations

import argparse
import sys


def _cmd_course(args: argparse.Namespace) -> int:
    from glassgrad import demo

    demo.fit_line_demo()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassgrad",
        description="glassgrad: run Hung-yi Lee's ML 2021 Spring course on a from-scratch library.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    course = sub.add_parser(
        "course",
        help="run the course and print its results",
        description="Run the course. For now: fit y = b + w*x by gradient descent on the built-in "
        "series (lecture 1) and print w, b and the losses.",
    )
    course.set_defaults(func=_cmd_course)
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
