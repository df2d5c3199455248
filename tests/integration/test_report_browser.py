"""The HTML report opened in a real browser (headless Chromium): it renders, every plot is in
the DOM, and the page logs no script or console errors. Chromium is required, not optional: a
missing browser fails the test so CI cannot silently skip it."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from infratest.results.render import write_reports
from tests.unit.test_reports import EXPECTED_PLOTS, compare_document, synthetic_document

TIMEOUT_S = 60
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed: run `apt-get update && apt-get install -y chromium` "
            "(the Debian package; CI must install it too)"
        )
    return found


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _page_errors(stderr: str) -> list[str]:
    """Only the page's own complaints: Chromium logs plenty of unrelated noise."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_reports(synthetic_document(), str(path), None)
    return path


def test_report_screenshot_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = _chromium()
    shot = tmp_path / "report.png"
    done = _run(
        browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000",
        report.as_uri(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.exists(), f"no screenshot; stderr: {done.stderr[-2000:]}"
    assert _png_size(shot) == (1280, 4000)
    assert shot.stat().st_size > 100_000, "screenshot looks blank"
    assert _page_errors(done.stderr) == []


def test_report_dom_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = _chromium()
    done = _run(browser, tmp_path / "profile", "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count("<img") == sum(EXPECTED_PLOTS.values())
    assert dom.count('src="data:image/png;base64,') == sum(EXPECTED_PLOTS.values())
    assert "Provenance" in dom and "Capacity" in dom
    assert "<script" not in dom.lower()
    assert _page_errors(done.stderr) == []


def test_compare_section_in_headless_chromium(tmp_path: Path) -> None:
    """The recorded compare run (one answer is hostile markup): the section renders, its two
    plots are images, and the answer is text, not an element."""
    browser = _chromium()
    path = tmp_path / "compare.html"
    write_reports(compare_document(), str(path), None)
    done = _run(browser, tmp_path / "profile", "--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    section = dom[dom.index('<section class="compare">') :].split("</section>")[0]
    assert "Baseline vs candidate" in section
    assert section.count('src="data:image/png;base64,') == 2
    assert "+16% (95% CI +12%..+23.9%)" in section
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert escaped in section
    assert "onerror" not in dom.replace(escaped, "")  # the answer did not become an element
    assert dom.count("<img") == 5  # the two comparison plots, latency, RSS and CPU
    assert _page_errors(done.stderr) == []
