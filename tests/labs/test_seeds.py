"""Every lab's claims hold on seeds 0-4, not only on seed 0 (quick setting; slow-marked: the
eight labs five times over took 23 minutes on a busy 2-core machine; run with
``pytest -m slow tests/labs/test_seeds.py``). The same check as ``glassgrad course --seeds 0-4``."""

import pytest

from glassgrad.labs import all_labs, run_lab

SEEDS = range(5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_every_claim_holds_on_every_seed(lab, seed, tmp_path):
    result = run_lab(lab, tmp_path, seed=seed, progress=False)
    assert result.error is None, result.error
    failed = [f"{c.text} -- measured {c.measured}" for c in result.claims if not c.holds]
    assert not failed, f"{lab.name}, seed {seed}: " + "\n".join(failed)
    assert result.claims
