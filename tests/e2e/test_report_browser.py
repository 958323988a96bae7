"""The HTML report in a REAL browser: Debian's chromium, headless.

The page is opened from a file with the network closed; the test reads back the
DOM chromium built (the SVG chart and its markers are there), asks the browser
where it laid the chart out, and checks in a screenshot that the markers are
painted in their outcome colours inside the chart. Without chromium the test
fails: install it with ``apt-get install -y chromium``.
"""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest_report import AuditRepo, audit_history, audit_repo  # noqa: F401 (fixtures)

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--force-device-scale-factor=1", "--window-size=1280,1400")

MEASURE = """<script>
const svg = document.getElementById("timeline").getBoundingClientRect();
const ops = [...document.querySelectorAll("circle.op")].map(c => {
  const r = c.getBoundingClientRect();
  return {id: c.dataset.operation, fill: c.getAttribute("fill"), x: r.x + r.width / 2, y: r.y + r.height / 2,
          w: r.width};
});
document.body.setAttribute("data-layout", JSON.stringify({x: svg.x, y: svg.y, w: svg.width, h: svg.height, ops}));
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: this test renders the HTML report in a real browser. "
                    "Install it with: apt-get update && apt-get install -y chromium")
    return found


def run_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run((chromium(), *FLAGS, f"--user-data-dir={profile}", *args), capture_output=True,
                          text=True, timeout=180)


def decode_png(data: bytes) -> tuple[int, int, list[bytearray], int]:
    """(width, height, rows, bytes per pixel) of an 8-bit RGB or RGBA PNG, as chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0) and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def pixel(rows: list[bytearray], bpp: int, x: float, y: float) -> tuple[int, int, int]:
    row, i = rows[int(y)], int(x) * bpp
    return row[i], row[i + 1], row[i + 2]


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


@pytest.fixture
def page(audit_repo: AuditRepo, tmp_path: Path) -> Path:  # noqa: F811 (the fixture above)
    from opsgov_hooks.cli import main

    target = tmp_path / "report.html"
    assert main(["report", "-C", str(audit_repo.path), "--format", "html", "-o", str(target), "-q"]) == 1
    return target


def test_chromium_builds_the_chart_into_the_dom(page: Path, tmp_path: Path) -> None:
    proc = run_browser(tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr
    dom = proc.stdout
    assert re.search(r'<svg id="timeline"[^>]*>', dom)
    markers = re.findall(r'<circle class="op outcome-(\w+)" data-operation="(OPS-[0-9-]+)"', dom)
    assert sorted(markers) == [("open", "OPS-2026-02-01-001"), ("rollback", "OPS-2026-01-12-001"),
                               ("success", "OPS-2026-01-10-001"), ("success", "OPS-2026-01-15-001")]
    assert dom.count('class="lane"') == 4 and dom.count('class="tick"') == 6


def test_chromium_paints_every_marker_in_its_outcome_colour(page: Path, tmp_path: Path) -> None:
    # 1. Where does the browser lay the chart and its markers out? (a copy of the page that reports it)
    measured = tmp_path / "measured.html"
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    proc = run_browser(tmp_path, "--dump-dom", measured.as_uri())
    assert proc.returncode == 0, proc.stderr
    found = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert found, "the browser did not run the layout probe"
    layout = json.loads(found[1].replace("&quot;", '"'))
    assert (layout["w"], layout["h"]) == (960, 44 + 44 * 4 + 46)
    assert len(layout["ops"]) == 4 and all(op["w"] > 0 for op in layout["ops"])

    # 2. The real page, as a person sees it: a screenshot.
    shot = tmp_path / "report.png"
    proc = run_browser(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr
    width, height, rows, bpp = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 1400)
    assert layout["y"] + layout["h"] <= height, "the chart must be on the first screen"

    for op in layout["ops"]:
        assert near(pixel(rows, bpp, op["x"], op["y"]), rgb(op["fill"])), op
    x0, y0 = int(layout["x"]), int(layout["y"])
    painted = sum(1 for y in range(y0, y0 + int(layout["h"])) for x in range(x0, x0 + int(layout["w"]))
                  if pixel(rows, bpp, x, y) != (255, 255, 255))
    assert painted > 20_000  # lanes, axis, labels and markers; an empty chart area would be white
