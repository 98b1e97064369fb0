"""The shipped series must be inside the wheel and load from an installed copy (slow: builds it)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_the_series_and_it_loads_from_the_installed_copy(tmp_path):
    source = tmp_path / "source"  # a clean copy: no build/ or egg-info left over from other builds
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(tmp_path / "wheel")]
    subprocess.run([*pip_wheel, "--no-deps", "--no-build-isolation", "-q"], check=True)
    (wheel,) = (tmp_path / "wheel").glob("glassgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "glassgrad/datasets/data/us_births_2000_2014.csv" in names
    assert "glassgrad/datasets/data/README.md" in names
    assert "glassgrad/datasets/data/japanese_vowels.npz" in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "installed")  # a pure wheel installs by unpacking
    code = ("import glassgrad, glassgrad.datasets as d; dates, v = d.load_series('us_births'); "
            "print(glassgrad.__file__, len(v), v[0])")
    env = {"PYTHONPATH": str(tmp_path / "installed"), "PATH": ""}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    out = run.stdout.split()
    assert out[0].startswith(str(tmp_path / "installed")) and out[1:] == ["5479", "9083"]
