"""The glassgrad command's argument handling and its answers to a user's mistakes (the labs' own
runs are tested in tests/labs). Mistakes are checked by running the command as a user would, in a
subprocess: one line on stderr, the right exit code, never a traceback."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from glassgrad import __version__
from glassgrad.cli import _short_warnings, main
from glassgrad.datasets import MNISTFallbackWarning
from tests.conftest import MNIST_DIR

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.update(extra)
    return env


def glassgrad(*argv, cwd=None, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``glassgrad ARGV...`` as a user would, capturing its output."""
    return subprocess.run([sys.executable, "-m", "glassgrad", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env or _env(), timeout=300, **kwargs)


def _one_line_error(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_unknown_lab_is_a_short_error_with_exit_code_2(capsys):
    assert main(["lab", "run", "no-such-lab"]) == 2
    assert "glassgrad lab run: unknown lab 'no-such-lab'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--bogus"], ["course", "--seed", "x"], ["lab", "run"], ["nonsense"],
                                  ["course", "--quick", "--full"]])
def test_bad_options_exit_with_code_2(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_help_on_every_level():
    for argv in (["--help"], ["course", "--help"], ["lab", "--help"], ["lab", "run", "--help"],
                 ["lab", "list", "--help"]):
        out = glassgrad(*argv)
        assert out.returncode == 0 and "usage: glassgrad" in out.stdout


def test_version():
    out = glassgrad("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"glassgrad {__version__}"


@pytest.mark.parametrize("argv", [["course", "--bogus"], ["lab", "run", "cnn", "--bogus"]])
def test_unknown_option_after_a_subcommand_shows_that_subcommand_usage(argv):
    out = glassgrad(*argv)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    prog = " ".join(argv[:-1]) if argv[0] == "course" else "lab run"
    assert out.stderr.startswith(f"usage: glassgrad {prog} [-h]"), out.stderr
    assert "unrecognized arguments: --bogus" in out.stderr


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_seed_out_of_range_is_one_line(seed, tmp_path):
    _one_line_error(glassgrad("course", "--seed", seed, "--out", str(tmp_path)), "--seed", seed)


def test_out_that_is_a_file_is_one_line(tmp_path):
    a_file = tmp_path / "report"
    a_file.write_text("not a folder")
    _one_line_error(glassgrad("course", "--out", str(a_file)), str(a_file), "is a file")
    _one_line_error(glassgrad("lab", "run", "cnn", "--out", str(a_file)), "is a file")
    _one_line_error(glassgrad("course", "--out", str(a_file / "sub")), f"({a_file}) is a file")
    assert a_file.read_text() == "not a folder"


def test_out_folder_that_cannot_be_written_is_one_line(tmp_path):
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
    elif Path("/sys").is_dir():
        locked = Path("/sys")  # root may write anywhere but in the kernel's sysfs
    else:
        pytest.skip("running as root, with no folder that root cannot write")
    for out in (locked, locked / "glassgrad-report"):  # an existing folder, and one to create
        _one_line_error(glassgrad("course", "--out", str(out)), "cannot write to the output folder", str(out))


def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    env = _env(GLASSGRAD_DATA=str(MNIST_DIR)) if MNIST_DIR.is_dir() else _env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "glassgrad", "course", "--quiet", "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # Python turns SIGINT into KeyboardInterrupt only if SIGINT is not ignored at start, and a
        # test runner in the background may have inherited it ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("running "), first + proc.stderr.read()
        time.sleep(1.0)  # inside the first lab's training
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "glassgrad: interrupted"


def test_lab_list_runs(capsys):
    assert main(["lab", "list"]) == 0


def test_mnist_fallback_warning_is_one_line_once_and_quiet_silences_it(capsys):
    def warn_like_five_labs():
        for _ in range(5):
            warnings.warn(MNISTFallbackWarning("MNIST is not available (not found in /x)"), stacklevel=1)

    with _short_warnings(quiet=False):
        warn_like_five_labs()
    assert capsys.readouterr().err == "glassgrad: MNIST is not available (not found in /x)\n"
    with _short_warnings(quiet=True):
        warn_like_five_labs()
    assert capsys.readouterr().err == ""


@pytest.mark.lab
@pytest.mark.parametrize("quiet", [False, True])
def test_offline_the_command_says_once_in_one_line_that_mnist_is_missing(tmp_path, quiet):
    empty = tmp_path / "no-data"
    empty.mkdir()
    # MNIST looked for in an empty folder, and every download refused at once by a proxy that is not there
    env = _env(GLASSGRAD_DATA=str(empty), HOME=str(tmp_path), MPLCONFIGDIR=str(tmp_path / "mpl"),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", no_proxy="",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    argv = ["lab", "run", "batch-momentum", "--out", str(tmp_path / "out")] + (["--quiet"] if quiet else [])
    out = glassgrad(*argv, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    said = [line for line in out.stderr.splitlines() if "MNIST" in line]
    if quiet:
        assert said == [] and out.stderr == "", out.stderr
    else:
        assert said == [f"glassgrad: MNIST is not available (could not download it into {empty / 'mnist'}); "
                        "using scikit-learn's 8x8 digits instead. Set GLASSGRAD_DATA to a folder with MNIST's "
                        "files to use MNIST."], out.stderr
        assert "warnings.warn" not in out.stderr and "UserWarning" not in out.stderr


@pytest.mark.parametrize("argv", [["course"], ["lab", "run", "cnn"]])
def test_the_quick_setting_is_the_default(argv):
    from glassgrad.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(argv).full is False
    assert parser.parse_args([*argv, "--quick"]).full is False
    assert parser.parse_args([*argv, "--full"]).full is True


@pytest.mark.parametrize("spec, seeds", [("3", [3]), ("0-4", [0, 1, 2, 3, 4]), ("0,2,3", [0, 2, 3]),
                                         ("0-2,7", [0, 1, 2, 7]), (" 5 , 1", [5, 1]), ("4-4", [4])])
def test_parse_seeds(spec, seeds):
    from glassgrad.cli import parse_seeds

    assert parse_seeds(spec) == seeds


@pytest.mark.parametrize("spec, why", [("x", "got 'x'"), ("-1", "got '-1'"), ("0,,1", "got '0,,1'"),
                                       ("3-1", "ends below its start"), ("0-2,1", "seed 1 is given twice"),
                                       (str(2**32), "is too large"), ("1.5", "got '1.5'"),
                                       (f"0-{2**32 - 1}", "more than 1000 seeds")])
def test_bad_seeds_are_one_line(spec, why, tmp_path, capsys):
    assert main(["course", "--seeds", spec, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassgrad course: --seeds must be") and why in err and err.count("\n") == 1, err


def test_bad_seeds_from_the_shell_are_one_line(tmp_path):
    _one_line_error(glassgrad("lab", "run", "cnn", "--seeds", "4-2", "--out", str(tmp_path)), "--seeds must be",
                    "ends below its start")


def test_seed_and_seeds_together_exit_with_code_2():
    with pytest.raises(SystemExit) as e:
        main(["course", "--seed", "1", "--seeds", "0-4"])
    assert e.value.code == 2


def _toy_run(ctx):
    """A lab whose second claim holds on even seeds only, with a figure (a module-level function,
    so that the worker processes of --jobs can import it)."""
    import matplotlib.pyplot as plt

    ctx.claim("always holds", 1.0, True)
    ctx.claim("holds on even seeds", ctx.seed, ctx.seed % 2 == 0, expected="even")
    fig, ax = plt.subplots()
    ax.plot([0, ctx.seed])
    ctx.figure("line", fig)


def _seed_dependent_lab():
    from glassgrad.labs import Lab

    return Lab("toy", "Lecture 0", "Toy", "a claim that depends on the seed", _toy_run)


@pytest.mark.parametrize("jobs", ["1", "2"])  # one after the other here, or on two worker processes
def test_course_on_several_seeds_reports_how_many_each_claim_held_on(jobs, tmp_path, monkeypatch, capsys):
    import json

    import glassgrad.labs

    monkeypatch.setattr(glassgrad.labs, "all_labs", lambda: [_seed_dependent_lab()])
    # a claim fails on seed 1
    assert main(["course", "--seeds", "0-2", "--out", str(tmp_path), "--quiet", "--jobs", jobs]) == 1
    said = capsys.readouterr().out
    assert "holds on 3/3 seeds: always holds" in said and "FAILS on 2/3 seeds: holds on even seeds" in said
    assert "1 of 2 claims hold on every one of the seeds 0-2" in said
    md = (tmp_path / "report.md").read_text()
    assert "| always holds | 1 |  | 3/3 | yes |" in md and "| holds on even seeds | 0 | even | 2/3 | **NO** |" in md
    assert "seeds 0-2 (measured values, prose and figures of seed 0)" in md
    assert "![seed-0/line.png](toy/seed-0/line.png)" in md
    page = (tmp_path / "index.html").read_text()
    assert "<th>held on seeds</th>" in page and "<td class='nowrap'>2/3</td>" in page
    assert "data:image/png;base64," in page
    for seed in (0, 1, 2):  # each seed's own run is kept
        own = json.loads((tmp_path / "toy" / f"seed-{seed}" / "results.json").read_text())
        assert own["seed"] == seed and own["claims"][1]["holds"] == (seed % 2 == 0)
    merged = json.loads((tmp_path / "toy" / "results.json").read_text())
    assert merged["seeds"] == [0, 1, 2] and [c["seeds_held"] for c in merged["claims"]] == [3, 2]
    assert not merged["all_hold"]


def test_labs_on_worker_processes_come_back_in_the_course_order(tmp_path, monkeypatch, capsys):
    import glassgrad.labs

    labs = [_seed_dependent_lab() for _ in range(3)]
    for i, lab in enumerate(labs):
        lab.name = f"toy{i}"
    monkeypatch.setattr(glassgrad.labs, "all_labs", lambda: labs)
    assert main(["course", "--seed", "2", "--out", str(tmp_path), "--quiet", "--jobs", "3"]) == 0
    said = capsys.readouterr().out
    assert "running 3 labs, 3 at a time" in said
    assert [line.split()[1] for line in said.splitlines() if line.startswith("[ok]")] == ["toy0", "toy1", "toy2"]
    assert all((tmp_path / f"toy{i}" / "line.png").is_file() for i in range(3))


@pytest.mark.parametrize("jobs", ["0", "-2", "two"])
def test_bad_jobs_is_one_line(jobs, tmp_path):
    out = glassgrad("course", "--jobs", jobs, "--out", str(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--jobs" in out.stderr, out.stderr


def test_one_seed_given_by_seeds_is_a_plain_run(tmp_path, monkeypatch, capsys):
    import glassgrad.labs

    monkeypatch.setattr(glassgrad.labs, "all_labs", lambda: [_seed_dependent_lab()])
    assert main(["course", "--seeds", "4", "--out", str(tmp_path), "--quiet"]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "seed 4," in md and "held on seeds" not in md and (tmp_path / "toy" / "line.png").is_file()


@pytest.mark.lab
@pytest.mark.slow  # two real runs of a lab, 20-60 s; the toy lab above is the quick check
def test_lab_run_on_two_seeds(tmp_path):
    out = glassgrad("lab", "run", "adaptive-lr", "--seeds", "0,1", "--quiet", "--out", str(tmp_path))
    assert out.returncode in (0, 1), out.stderr
    claims = [line for line in out.stdout.splitlines() if line.startswith("    holds") or line.startswith("    FAILS")]
    assert claims and all(" on 2/2 seeds: " in c or " on 1/2 seeds: " in c or " on 0/2 seeds: " in c for c in claims)
    assert (tmp_path / "adaptive-lr" / "seed-1" / "results.json").is_file()
    assert "held on seeds" in (tmp_path / "adaptive-lr" / "section.md").read_text()
