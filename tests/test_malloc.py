"""glassgrad raises glibc's malloc thresholds on import (see _malloc.py), unless told not to."""

import os
import subprocess
import sys

import pytest

from glassgrad import _malloc

CHECK = "import glassgrad, glassgrad._malloc as m; print(m.applied)"


def _applied_in_fresh_process(**env_changes) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLASSGRAD_MALLOC", "GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}
    env.update(env_changes)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_applied_on_import_by_default():
    assert _applied_in_fresh_process() == "True"


@pytest.mark.parametrize("env", [
    {"GLASSGRAD_MALLOC": "system"},
    {"GLASSGRAD_MALLOC": "SYSTEM"},
    {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"},
    {"MALLOC_MMAP_THRESHOLD_": "65536"},
])
def test_left_alone_when_opted_out_or_tuned_by_the_user(env):
    assert _applied_in_fresh_process(**env) == "False"


def test_user_tuned():
    assert not _malloc._user_tuned({})
    assert not _malloc._user_tuned({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F"})
    assert _malloc._user_tuned({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1"})
    assert _malloc._user_tuned({"MALLOC_TRIM_THRESHOLD_": "0"})
