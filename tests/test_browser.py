"""Open the HTML report in headless Chromium, as a reader would.

Asserts that the page renders without console errors or failed loads and that every figure
decodes (``img.complete`` and a non-zero ``naturalWidth``), and keeps a screenshot in
``tests/artifacts/`` (git-ignored). Chromium is Debian's ``chromium`` package, installed by
``make browser`` (part of ``make test``); where it is missing the test is skipped and says so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evaluation.report import build_report
from registers_helpers import tiny_registers

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

#: Injected first in <head>: collects uncaught errors, failed loads and console.error calls.
CATCH = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var source = e.target && (e.target.src || e.target.href);
  window.__errors.push(e.message || ("failed to load " + source));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__errors.push(String(e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__errors.push(Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
})();
</script>"""

#: Injected last in <body>: after load, writes what it found into the DOM for --dump-dom.
REPORT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify({
    images: images.length,
    broken: broken.map(function (i) { return i.alt; }),
    errors: window.__errors,
    width: document.documentElement.scrollWidth,
    tables: document.querySelectorAll(".table-wrap").length,
    overflowing: Array.prototype.slice.call(document.querySelectorAll(".table-wrap"))
      .filter(function (w) { return w.scrollWidth > w.clientWidth + 1; })
      .map(function (w) { return w.firstElementChild.id; }),
    footnoteIndentEm: Array.prototype.slice.call(document.querySelectorAll("ol.footnotes"))
      .map(function (o) {
        var s = getComputedStyle(o);
        return parseFloat(s.paddingLeft) / parseFloat(s.fontSize);
      })
  });
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip(
            "headless Chromium is not installed: run `make browser` (apt-get install chromium) "
            "to run the browser test of the HTML report"
        )
    return exe


def _run(exe: str, args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser_report")
    return build_report(tiny_registers(), out, lang="sv", formats=("png",))


def test_report_renders_without_errors_and_every_figure_loads(page: Path, tmp_path: Path):
    exe = _chromium()
    html = page.read_text(encoding="utf-8")
    checked = page.with_name("checked.html")
    checked.write_text(
        html.replace("<head>", "<head>" + CATCH, 1).replace("</body>", REPORT + "</body>", 1),
        encoding="utf-8",
    )
    done = _run(
        exe,
        [
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--window-size=1100,2400",
            "--dump-dom",
            checked.as_uri(),
        ],
        tmp_path / "profile",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout, flags=re.DOTALL)
    assert found, "the check script did not run; stderr:\n" + done.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    n_figures = len(list((page.parent / "figures").glob("*.png")))
    assert result["images"] == n_figures > 0
    assert result["broken"] == []
    assert result["errors"] == []
    # Every table fits the page at a desktop width: wide Brå tables are split by window and
    # tables with many columns set smaller, so none needs a sideways scroll.
    assert result["tables"] > 0
    assert result["overflowing"] == []
    # The footnote list leaves room for a two-digit marker ("10."), set outside its box.
    assert result["footnoteIndentEm"] and min(result["footnoteIndentEm"]) >= 2.2
    # Chromium's own log of the page's console: no uncaught error.
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "rror" in line], console


def test_screenshot_is_kept_as_an_artefact(page: Path, tmp_path: Path):
    exe = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    done = _run(
        exe,
        [f"--screenshot={shot}", "--window-size=1100,2400", page.as_uri()],
        tmp_path / "profile",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
