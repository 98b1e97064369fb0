"""Lecture 4's lab, quick setting: every claim must hold."""

from glassgrad.labs import get_lab, run_lab


def test_critical_points_claims_hold(tmp_path):
    result = run_lab(get_lab("critical-points"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 5 and len(result.figures) == 4
    runs = result.results["runs"]
    assert all(r["grad_norm"] < 1e-3 and r["negative"] > 0 for r in runs)
