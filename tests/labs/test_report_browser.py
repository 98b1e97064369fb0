"""The course report as a reader sees it: index.html rendered by headless Chromium, on a desktop
and in a 390 px wide (phone) window. Checked: no raw Markdown in the visible text, every table a
real <table>, every figure loaded, nothing to scroll sideways on the phone, nothing from a lab's
text run as HTML. Skipped where Chromium is not installed (.ci/run tries to install it)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from glassgrad.labs import Lab, get_lab, run_lab_seeds
from glassgrad.labs.report import write_course_report

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# (width, height, mobile): a phone's viewport honours <meta name="viewport">, as a real phone does
DESKTOP, PHONE = (1280, 900, False), (390, 844, True)

# What the reader gets, measured in the loaded page.
MEASURE = """JSON.stringify({
  text: document.body.innerText,
  images: document.images.length,
  broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
  tables: document.querySelectorAll("table").length,
  scripts: document.querySelectorAll("script").length,
  bold: [...document.querySelectorAll("strong")].map(b => b.textContent),
  viewport: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  height: document.documentElement.scrollHeight,
})"""


def _above(fd: int, lowest: int) -> int:
    """``fd`` moved to the lowest free number >= ``lowest``."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, lowest)
    os.close(fd)
    return moved


class Browser:
    """Headless Chromium driven over the DevTools protocol through a pipe (--remote-debugging-pipe:
    JSON messages ended by a NUL byte, commands in on the browser's fd 3, answers out on its fd 4).

    A window-size flag alone will not do: headless Chromium lays pages out at least 500 px wide and
    crops the screenshot, while Emulation.setDeviceMetricsOverride gives a true 390 px viewport."""

    def __init__(self, profile: Path):
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()
        # bash moves the browser's two pipe ends to fds 3 and 4, where Chromium looks for them
        # (dash only takes one-digit fds); first they leave the low numbers, lest one move close the other.
        commands_r, answers_w = (_above(fd, 10) for fd in (commands_r, answers_w))
        shell = f'exec "$0" "$@" 3<&{commands_r} 4>&{answers_w} {commands_r}<&- {answers_w}>&-'
        self._proc = subprocess.Popen(
            ["bash", "-c", shell, CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            pass_fds=(commands_r, answers_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(answers_w)
        self._buffer, self._last_id, self._events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        """Run a DevTools command and return its result (events that arrive meanwhile are kept)."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._last_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]
            self._events.append(reply)

    def wait_for(self, event: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for e in self._events:
                if e.get("method") == event and e.get("sessionId") == session:
                    self._events.remove(e)
                    return e
            self._events.append(self._receive(deadline))

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe (it may have crashed)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str, width: int, height: int, mobile: bool) -> str:
        """Load ``url`` in a new tab with a ``width`` x ``height`` viewport; return the tab's session."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.resize(session, width, height, mobile)
        self.send("Page.enable", session=session)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        return session

    def resize(self, session: str, width: int, height: int, mobile: bool) -> None:
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, session)

    def evaluate(self, session: str, expression: str):
        answer = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"]["value"]

    def screenshot(self, session: str) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, session)["data"])

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (AssertionError, OSError, RuntimeError, TimeoutError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._commands)
        os.close(self._answers)


TRICKY_TEXT = [
    "**Bold** words, `code`, a_snake_case name and 2 * 3 * 4 stay as written.",
    "| setting | value |\n| --- | --- |\n| **steps** | 20 |\n| median \\|error\\| | 0.2 |",
    "A lab's text is shown, never run: <script>document.title = 'pwned'</script> <b>not bold</b>",
]


def _tricky_run(ctx):
    """A lab whose claims and prose hold what a careless report would get wrong."""
    ctx.claim("median |error| < 1 and w* < 2 for <all> runs", "|e| = 0.2; w* = 1.5", True)
    ctx.claim("a claim that fails", 0.5, False, expected="> 0.9")
    for paragraph in TRICKY_TEXT:
        ctx.write(paragraph)


def _markdown_tables(results) -> int:
    delimiter_row = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
    return sum(bool(delimiter_row.match(line)) for r in results for p in r.text for line in p.splitlines())


@pytest.fixture(scope="module", params=[[0], [0, 1]], ids=["one-seed", "two-seeds"])
def report(request, tmp_path_factory):
    """A report of one real lab (Lecture 5, a few seconds on the 8x8 digits, its prose rich in
    Markdown: bold, tables) and of the tricky lab above; run on one seed, and on two (the claims
    tables then have a column more, and the figures are in each seed's folder)."""
    import glassgrad.datasets.digits as digits

    def missing(*args, **kwargs):
        raise FileNotFoundError("MNIST is hidden for this test")

    seeds = request.param
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp, pytest.warns(digits.MNISTFallbackWarning):
        mp.setattr(digits, "load_mnist", missing)
        real = run_lab_seeds(get_lab("batch-momentum"), out / "batch-momentum", seeds, progress=False)
    tricky = run_lab_seeds(Lab("tricky", "Lecture 0", "Tricky <text> & co", "tricky", _tricky_run), out / "tricky",
                           seeds, progress=False)
    return write_course_report([real, tricky], out), [real, tricky]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_report_reads_right_in_a_browser(report, browser, size, tmp_path):
    index, results = report
    width, height, mobile = size
    tab = browser.open(index.as_uri(), width, height, mobile)
    seen = json.loads(browser.evaluate(tab, MEASURE))
    assert seen["viewport"] == width
    lines = [line.strip() for line in seen["text"].splitlines()]
    assert "**" not in seen["text"]
    assert not [line for line in lines if line.startswith(("|", "#"))]
    # every Markdown table of the labs' prose, plus the summary and one claims table per lab
    assert seen["tables"] == _markdown_tables(results) + 1 + len(results)
    assert seen["images"] == sum(len(r.figures) for r in results) > 0
    assert seen["broken"] == []
    assert seen["scrollWidth"] <= seen["clientWidth"], f"a {width} px window scrolls sideways"
    # text from a lab or a claim is shown as text: the page has no script at all
    assert seen["scripts"] == 0
    assert "<script>document.title = 'pwned'</script> <b>not bold</b>" in seen["text"]
    assert "median |error| < 1 and w* < 2 for <all> runs" in seen["text"]
    assert "Tricky <text> & co" in seen["text"]
    assert "Bold" in seen["bold"] and "steps" in seen["bold"] and "not bold" not in seen["bold"]
    assert "2 * 3 * 4" in seen["text"] and "a_snake_case" in seen["text"]
    if results[0].seeds:  # on two seeds, each claim says on how many it held
        assert "held on seeds" in seen["text"] and "seeds 0, 1 (measured values" in seen["text"]
        assert "0/2" in seen["text"].split("a claim that fails", 1)[1].splitlines()[0]  # the row's cells

    # The whole page as a picture, to look at after changing the layout (kept in tmp_path; set
    # GLASSGRAD_SCREENSHOTS to a folder to keep them there). It must at least not be blank.
    browser.resize(tab, width, seen["height"], mobile)
    shot = tmp_path / f"report-{width}px{'-seeds' if results[0].seeds else ''}.png"
    shot.write_bytes(browser.screenshot(tab))
    if os.environ.get("GLASSGRAD_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["GLASSGRAD_SCREENSHOTS"]) / shot.name)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (width, seen["height"])
        assert len(image.convert("L").getcolors(maxcolors=256 * 256)) > 10  # text and figures, not blank
