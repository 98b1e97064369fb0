"""The course report: a summary per lecture on top, then one section per lab with its claims table,
its prose and its figures; as Markdown (report.md), as one self-contained HTML page (index.html,
figures embedded) and with all numbers in results.json.

The labs write their prose in Markdown (``ctx.write``); the page renders it with markdown-it-py,
a CommonMark parser, with tables on and raw HTML off, so a lab's text is shown, never run. Claims
and every other string the page is built from are escaped, since they are text, not markup.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import asdict
from pathlib import Path

from markdown_it import MarkdownIt

from glassgrad.labs._lab import Claim, LabResult

# "commonmark" is the strict preset (no raw-HTML pass-through once html is False, no linkify);
# tables are the one extension the labs use.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
# A table wider than a phone's screen scrolls inside its own box instead of widening the page.
_MARKDOWN.add_render_rule("table_open", lambda self, tokens, idx, options, env: "<div class='wide'><table>\n")
_MARKDOWN.add_render_rule("table_close", lambda self, tokens, idx, options, env: "</table></div>\n")

# characters that would start Markdown syntax inside a table cell of report.md
_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>|~#"})


def markdown_to_html(text: str) -> str:
    """A lab's Markdown prose as HTML (CommonMark plus tables; raw HTML in the text is escaped)."""
    return _MARKDOWN.render(text)


def _cell(text: str) -> str:
    """Plain text for a Markdown table cell: Markdown's special characters escaped (a literal |
    would end the cell, a * could start emphasis), and on one line."""
    return " ".join(str(text).split()).translate(_MARKDOWN_SPECIAL)


def _has_thresholds(claims: list[Claim]) -> bool:
    return any(c.expected for c in claims)


def _held(r: LabResult) -> str:
    return f"{sum(c.holds for c in r.claims)} of {len(r.claims)}"


def format_seeds(seeds: list[int]) -> str:
    """Seeds as a reader writes them: runs of three or more consecutive ones as a range
    ([0, 1, 2, 3, 4] -> "0-4", [0, 2, 3] -> "0, 2, 3")."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts += [f"{seeds[i]}-{seeds[j]}"] if j - i >= 2 else [str(s) for s in seeds[i:j + 1]]
        i = j + 1
    return ", ".join(parts)


def _seeds_note(r: LabResult) -> str:
    """How the lab was seeded, for its section's first line."""
    if not r.seeds:
        return f"seed {r.seed}"
    return f"seeds {format_seeds(r.seeds)} (measured values, prose and figures of seed {r.seed})"


def _head(r: LabResult) -> list[str]:
    """The claims table's columns: a run over several seeds adds on how many each claim held."""
    measured = f"measured (seed {r.seed})" if r.seeds else "measured"
    return ["claim", measured, *(["threshold"] if _has_thresholds(r.claims) else []),
            *(["held on seeds"] if r.seeds else []), "holds?"]


def _seeds_held(r: LabResult, c: Claim) -> list[str]:
    return [f"{c.seeds_held}/{len(r.seeds)}"] if r.seeds else []


def lab_markdown(r: LabResult, figure_prefix: str = "") -> str:
    """A lab's report section in Markdown; figures linked as ``figure_prefix`` + file name."""
    lines = [f"## {r.lecture}: {r.title}", ""]
    lines.append(f"*Lab `{r.name}`, {r.setting} setting, {_seeds_note(r)}, {r.seconds:.1f} s.*")
    lines.append("")
    if r.error:
        lines += ["**The lab failed:**", "", "```", r.error.strip(), "```", ""]
    if r.claims:
        thresholds = _has_thresholds(r.claims)
        head = _head(r)
        lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        for c in r.claims:
            cells = [_cell(c.text), _cell(c.measured), *([_cell(c.expected)] if thresholds else []),
                     *_seeds_held(r, c), "yes" if c.holds else "**NO**"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for paragraph in r.text:
        lines += [paragraph, ""]
    for f in r.figures:
        lines += [f"![{f}]({figure_prefix}{f})", ""]
    return "\n".join(lines)


def write_course_report(results: list[LabResult], out_dir: Path, title: str = "glassgrad: the course") -> Path:
    """Write report.md, index.html and results.json for the labs' results into ``out_dir``
    (each lab's files are in ``out_dir/<lab name>/``). Returns the path of index.html."""
    out_dir = Path(out_dir)
    held = sum(c.holds for r in results for c in r.claims)
    total = sum(len(r.claims) for r in results)

    md = [f"# {title}", "", f"{held} of {total} claims hold{_on_seeds(results)}{_failed_note(results)}.", ""]
    md += ["| lecture | lab | claims held | time |", "| --- | --- | --- | --- |"]
    for r in results:
        verdict = _held(r) if r.all_hold else f"**{_held(r)}{', the lab failed' if r.error else ''}**"
        md.append(f"| {_cell(r.lecture)} | {_cell(r.title)} | {verdict} | {r.seconds:.1f} s |")
    md.append("")
    for r in results:
        md += [lab_markdown(r, figure_prefix=f"{r.name}/"), ""]
    (out_dir / "report.md").write_text("\n".join(md))

    (out_dir / "results.json").write_text(
        json.dumps({"claims_held": held, "claims_total": total, "labs": [asdict(r) for r in results]}, indent=2)
    )
    index = out_dir / "index.html"
    index.write_text(_html(results, out_dir, title, held, total))
    return index


def _on_seeds(results: list[LabResult]) -> str:
    seeds = next((r.seeds for r in results if r.seeds), None)
    return f" on every one of the seeds {format_seeds(seeds)}" if seeds else ""


def _failed_note(results: list[LabResult]) -> str:
    failed = [r.name for r in results if r.error]
    return f"; labs that failed: {', '.join(failed)}" if failed else ""


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;line-height:1.45;max-width:980px;margin:1.5em auto;padding:0 1em;color:#222}
nav{line-height:1.9}
.wide{overflow-x:auto;margin:1em 0}
table{border-collapse:collapse}table.claims,table.summary{width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
.nowrap{white-space:nowrap}
th{background:#f3f3f3}
.no{color:#b00;font-weight:bold;white-space:nowrap}.yes{color:#070;white-space:nowrap}
img{display:block;max-width:100%;height:auto;border:1px solid #eee;margin:.8em 0}
pre{background:#f6f6f6;padding:.5em;overflow:auto}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#666;font-style:italic}
@media (max-width:600px){body{margin:.8em auto;padding:0 .6em}h1{font-size:1.6em}h2{font-size:1.25em}
table{font-size:.9em}td,th{padding:3px 4px}}
"""


def _claims_table(r: LabResult) -> str:
    e = html.escape
    thresholds = _has_thresholds(r.claims)
    head = _head(r)
    rows = ["<div class='wide'><table class='claims'><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for c in r.claims:
        cls, word = ("yes", "yes") if c.holds else ("no", "NO")
        threshold = f"<td>{e(c.expected)}</td>" if thresholds else ""
        seeds = "".join(f"<td class='nowrap'>{n}</td>" for n in _seeds_held(r, c))
        rows.append(f"<tr><td>{e(c.text)}</td><td>{e(c.measured)}</td>{threshold}{seeds}"
                    f"<td class='{cls}'>{word}</td></tr>")
    return "\n".join(rows) + "</tbody></table></div>"


def _html(results: list[LabResult], out_dir: Path, title: str, held: int, total: int) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p><b>{held} of {total}</b> claims hold{e(_on_seeds(results))}{e(_failed_note(results))}.</p>",
        "<div class='wide'><table class='summary'><thead><tr>"
        "<th>lecture</th><th>lab</th><th>claims held</th><th>time</th></tr></thead><tbody>",
    ]
    for r in results:
        cls = "yes" if r.all_hold else "no"
        failed = ", the lab failed" if r.error else ""
        parts.append(f"<tr><td><a href='#{e(r.name)}'>{e(r.lecture)}</a></td><td>{e(r.title)}</td>"
                     f"<td class='{cls}'>{_held(r)}{failed}</td><td class='nowrap'>{r.seconds:.1f} s</td></tr>")
    parts.append("</tbody></table></div>")
    for r in results:
        parts.append(f"<section id='{e(r.name)}'><h2>{e(r.lecture)}: {e(r.title)}</h2>")
        parts.append(f"<p class='meta'>Lab <code>{e(r.name)}</code>, {e(r.setting)} setting, {e(_seeds_note(r))}, "
                     f"{r.seconds:.1f} s.</p>")
        if r.error:
            parts.append(f"<p class='no'>The lab failed:</p><pre>{e(r.error)}</pre>")
        if r.claims:
            parts.append(_claims_table(r))
        parts += [markdown_to_html(paragraph) for paragraph in r.text]
        for f in r.figures:
            data = base64.b64encode((out_dir / r.name / f).read_bytes()).decode()
            parts.append(f"<img alt='{e(f)}' src='data:image/png;base64,{data}'>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
