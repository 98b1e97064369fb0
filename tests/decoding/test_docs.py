"""The Python examples of docs/decoding.md run, and print what their comments say."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "decoding.md"


def test_decoding_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 4
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert "[\"don't\", 'stop', ',', 'bob', '!']" in out
    assert "[1, 4, 5, 3, 2]" in out and "['the', 'cat', '<unk>']" in out
    assert "81.87" in out
