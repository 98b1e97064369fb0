"""Lecture 6's lab, quick setting: every claim must hold (fixed seed, deterministic problem)."""

from glassgrad.labs import get_lab, run_lab


def test_adaptive_lr_claims_hold(tmp_path):
    result = run_lab(get_lab("adaptive-lr"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) >= 8 and len(result.figures) == 5
