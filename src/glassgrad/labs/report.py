"""The course report: one section per lab, the claims table on top, as Markdown and as one
self-contained HTML page (figures embedded), plus all numbers in results.json."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import asdict
from pathlib import Path

from glassgrad.labs._lab import LabResult


def _claims_rows(results: list[LabResult]):
    for r in results:
        for c in r.claims:
            yield r, c
        if r.error:
            yield r, None


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a literal | would end the cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def lab_markdown(r: LabResult, figure_prefix: str = "") -> str:
    """A lab's report section in Markdown; figures linked as ``figure_prefix`` + file name."""
    lines = [f"## {r.lecture}: {r.title}", ""]
    lines.append(f"*Lab `{r.name}`, {r.setting} setting, seed {r.seed}, {r.seconds:.1f} s.*")
    lines.append("")
    if r.error:
        lines += ["**The lab failed:**", "", "```", r.error.strip(), "```", ""]
    if r.claims:
        lines += ["| claim | measured | holds |", "| --- | --- | --- |"]
        for c in r.claims:
            lines.append(f"| {_cell(c.text)} | {_cell(c.measured)} | {'yes' if c.holds else '**NO**'} |")
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
    failed = [r.name for r in results if r.error]

    md = [f"# {title}", ""]
    md.append(f"{held} of {total} claims hold" + (f"; labs that failed: {', '.join(failed)}" if failed else "") + ".")
    md += ["", "| lecture | claim | measured | holds |", "| --- | --- | --- | --- |"]
    for r, c in _claims_rows(results):
        if c is None:
            md.append(f"| {r.lecture} | lab `{r.name}` failed | - | **NO** |")
        else:
            md.append(f"| {r.lecture} | {_cell(c.text)} | {_cell(c.measured)} | {'yes' if c.holds else '**NO**'} |")
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


_CSS = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.no{color:#b00;font-weight:bold}.yes{color:#070}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}pre{background:#f6f6f6;padding:.5em;overflow:auto}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}.meta{color:#666;font-style:italic}
"""


def _html(results, out_dir, title, held, total) -> str:
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title><style>{_CSS}</style>"]
    parts.append(f"<h1>{e(title)}</h1><p><b>{held} of {total}</b> claims hold.</p>")
    links = " &middot; ".join(f"<a href='#{e(r.name)}'>{e(r.lecture)}: {e(r.title)}</a>" for r in results)
    parts.append(f"<p>{links}</p>")
    parts.append("<table><tr><th>lecture</th><th>claim</th><th>measured</th><th>holds</th></tr>")
    for r, c in _claims_rows(results):
        if c is None:
            parts.append(f"<tr><td>{e(r.lecture)}</td><td>lab {e(r.name)} failed</td><td>-</td>"
                         "<td class='no'>NO</td></tr>")
            continue
        cls, word = ("yes", "yes") if c.holds else ("no", "NO")
        parts.append(f"<tr><td>{e(r.lecture)}</td><td>{e(c.text)}</td><td>{e(c.measured)}</td>"
                     f"<td class='{cls}'>{word}</td></tr>")
    parts.append("</table>")
    for r in results:
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.lecture)}: {e(r.title)}</h2>")
        parts.append(f"<p class='meta'>Lab {e(r.name)}, {r.setting} setting, seed {r.seed}, "
                     f"{r.seconds:.1f} s.</p>")
        if r.error:
            parts.append(f"<p class='no'>The lab failed:</p><pre>{e(r.error)}</pre>")
        for paragraph in r.text:
            parts.append(_markdownish(paragraph))
        for f in r.figures:
            data = base64.b64encode((out_dir / r.name / f).read_bytes()).decode()
            parts.append(f"<img alt='{e(f)}' src='data:image/png;base64,{data}'>")
    return "\n".join(parts)


def _markdownish(text: str) -> str:
    """Paragraphs and Markdown tables to HTML (enough for the labs' own prose)."""
    lines = text.splitlines()
    if lines and all(line.startswith("|") for line in lines):
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines if not set(line) <= set("|- :")]
        head, *body = rows
        out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body]
        return "".join(out) + "</table>"
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"
