"""The glassgrad command's argument handling (the labs' own runs are tested in tests/labs)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glassgrad.cli import main


def test_unknown_lab_is_a_short_error_with_exit_code_2(capsys):
    assert main(["lab", "run", "no-such-lab"]) == 2
    assert "unknown lab 'no-such-lab'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--bogus"], ["course", "--seed", "x"], ["lab", "run"], ["nonsense"]])
def test_bad_options_exit_with_code_2(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_help_on_every_level():
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for argv in (["--help"], ["course", "--help"], ["lab", "--help"], ["lab", "run", "--help"],
                 ["lab", "list", "--help"]):
        out = subprocess.run([sys.executable, "-m", "glassgrad", *argv], capture_output=True, text=True, env=env)
        assert out.returncode == 0 and "usage: glassgrad" in out.stdout


def test_lab_list_runs(capsys):
    assert main(["lab", "list"]) == 0
