"""The lab framework and the course report, on a small lab defined here."""

import json

import matplotlib.pyplot as plt
import numpy as np

import glassgrad as gg
from glassgrad.labs import Lab, run_lab
from glassgrad.labs.report import write_course_report


def _fit_run(ctx):
    """A real (tiny) experiment: gradient descent on a quadratic, with one claim and a figure."""
    w = gg.tensor(5.0, requires_grad=True)
    losses = []
    for _ in ctx.bar(range(ctx.size(20, 40)), desc="steps"):
        loss = (w - 2.0) ** 2
        loss.backward()
        with gg.no_grad():
            w -= 0.2 * w.grad
            w.grad = None
        losses.append(loss.item())
    ctx.claim("gradient descent reaches the minimum w = 2", f"w = {w.item():.4f}", abs(w.item() - 2) < 1e-3)
    ctx.result("losses", np.array(losses))
    fig, ax = plt.subplots()
    ax.plot(losses)
    ctx.figure("loss_curve", fig)
    ctx.write("| setting | value |\n| --- | --- |\n| steps | 20 |")


def _broken_run(ctx):
    ctx.claim("a claim that fails", 0.5, False)
    raise ValueError("something went wrong")


def test_run_lab_writes_results_and_section(tmp_path):
    lab = Lab("toy", "Lecture 0", "A toy lab", "gradient descent on a parabola", _fit_run)
    r = run_lab(lab, tmp_path / "toy", progress=False)
    assert r.all_hold and r.error is None
    saved = json.loads((tmp_path / "toy" / "results.json").read_text())
    assert saved["all_hold"] and saved["claims"][0]["holds"]
    assert len(saved["results"]["losses"]) == 20
    assert (tmp_path / "toy" / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "gradient descent reaches" in (tmp_path / "toy" / "section.md").read_text()


def test_course_report_embeds_figures_and_lists_failures(tmp_path):
    good = run_lab(Lab("toy", "Lecture 0", "Toy", "toy", _fit_run), tmp_path / "toy", progress=False)
    bad = run_lab(Lab("broken", "Lecture 9", "Broken", "broken", _broken_run), tmp_path / "broken", progress=False)
    assert not bad.all_hold and "something went wrong" in bad.error
    index = write_course_report([good, bad], tmp_path)
    page = index.read_text()
    assert "data:image/png;base64," in page  # self-contained
    assert "1 of 2</b> claims hold; labs that failed: broken." in page
    assert "0 of 1, the lab failed" in page and "ValueError: something went wrong" in page
    # each lab's section has its own claims table; the toy lab's Markdown table is a real table
    assert page.count("<table class='claims'>") == 2
    assert "<th>setting</th>" in page and "| setting |" not in page
    md = (tmp_path / "report.md").read_text()
    assert "![loss_curve.png](toy/loss_curve.png)" in md
    assert "**0 of 1, the lab failed**" in md
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["claims_held"] == 1 and summary["claims_total"] == 2


def test_pipes_in_claims_do_not_break_markdown_tables(tmp_path):
    def run(ctx):
        ctx.claim("median |error| is small", "|e| = 0.2", True)

    r = run_lab(Lab("pipes", "Lecture 0", "Pipes", "pipes", run), tmp_path / "pipes", progress=False)
    write_course_report([r], tmp_path)
    row = [line for line in (tmp_path / "report.md").read_text().splitlines() if "median" in line][0]
    assert row.count("|") - row.count("\\|") == 4  # three cells: claim, measured, holds?


def test_claims_and_titles_are_escaped_and_prose_is_markdown(tmp_path):
    def run(ctx):
        ctx.claim("w* < 2 for <all> runs & __no__ bold", "<b>1.5</b>", True, expected="w* < 2")
        ctx.write("**bold** and <i>raw html</i>")

    r = run_lab(Lab("esc", "Lecture 0", "A <title>", "escaping", run), tmp_path / "esc", progress=False)
    page = write_course_report([r], tmp_path).read_text()
    assert "A &lt;title&gt;" in page and "<title>A" not in page
    assert "<td>w* &lt; 2 for &lt;all&gt; runs &amp; __no__ bold</td><td>&lt;b&gt;1.5&lt;/b&gt;</td>" in page
    assert "<th>threshold</th>" in page and "<td>w* &lt; 2</td>" in page  # shown when a lab gives one
    assert "<p><strong>bold</strong> and &lt;i&gt;raw html&lt;/i&gt;</p>" in page
    md = (tmp_path / "report.md").read_text()
    assert "| w\\* \\< 2 for \\<all\\> runs & \\_\\_no\\_\\_ bold | \\<b\\>1.5\\</b\\> | w\\* \\< 2 | yes |" in md


def test_single_threaded_blas_limits_blas_threads():
    from threadpoolctl import threadpool_info

    from glassgrad.labs._blas import one_blas_thread

    with one_blas_thread():
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_a_run_on_several_seeds_counts_the_seeds_each_claim_held_on(tmp_path):
    from glassgrad.labs import run_lab_seeds

    def run(ctx):
        ctx.claim("holds on every seed", ctx.seed, True)
        if ctx.seed == 2:
            raise ValueError("seed 2 stops early")
        ctx.claim("missing where the run stopped", ctx.seed, True)
        if ctx.seed == 1:
            ctx.claim("only seed 1 makes this claim", 1, True)

    r = run_lab_seeds(Lab("early", "Lecture 0", "Early", "early", run), tmp_path, [0, 1, 2], progress=False)
    assert r.seeds == [0, 1, 2] and r.seed == 0
    assert [(c.text, c.seeds_held, c.holds) for c in r.claims] == [
        ("holds on every seed", 3, True), ("missing where the run stopped", 2, False),
        ("only seed 1 makes this claim", 1, False)]
    assert r.claims[2].measured == "(seed 1) 1"  # not made on the first seed: says whose value it is
    assert r.error.startswith("seed 2: ValueError: seed 2 stops early") and not r.all_hold
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "section.md", "seed-0", "seed-1", "seed-2"]
    assert "| holds on every seed | 0 | 3/3 | yes |" in (tmp_path / "section.md").read_text()


def test_a_run_on_one_seed_is_run_lab(tmp_path):
    from glassgrad.labs import run_lab_seeds

    r = run_lab_seeds(Lab("toy", "Lecture 0", "Toy", "toy", _fit_run), tmp_path, [3], progress=False)
    assert r.seeds is None and r.seed == 3 and (tmp_path / "loss_curve.png").is_file()
