"""The instructor kit in a real browser: every slide deck and the Voila demo, driven by Playwright.

Playwright is pointed at the system Chromium (/usr/bin/chromium, or MFLAB_CHROMIUM); it never
downloads a browser. Every request that leaves the machine is refused and reported, so a deck or
the demo that needs the network fails here as it would in an offline classroom.

Without Chromium the tests are skipped (``apt-get install chromium`` enables them), except under
CI (the CI variable set), where a missing browser is a failure: CI must never skip them.
Screenshots (one slide per lesson, every overflowing slide, the demo after rating) go to
test-artifacts/ (ignored by git) for a person to look at.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("MFLAB_CHROMIUM", "/usr/bin/chromium"))
WIDTH, HEIGHT = 1280, 720
DEMO = ROOT / "notebooks" / "10_rate_and_recommend.ipynb"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium "
                    "when it runs as root)")
    pytest.skip(f"{reason}; to run the browser tests: apt-get install chromium (as root), then "
                "make test")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (it is in the `test` extra)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def _offline_page(browser, allowed=("file://", "data:", "blob:", "about:")):
    """A 1280x720 page whose requests outside ``allowed`` prefixes are aborted and recorded."""
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    refused = []

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, refused, errors


# Step through every slide; for each, every element's box must lie inside the slide's 1280x720 box
# (Reveal scales it into the viewport), no element may need a scroll bar, and every image must have
# loaded (naturalWidth > 0). Fragments are all shown, so the slide is measured at its fullest.
_CHECK_SLIDES = """async ([W, H]) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const results = [];
  const slides = Reveal.getSlides();
  for (let n = 0; n < slides.length; n++) {
    const s = slides[n];
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v, s.querySelectorAll('.fragment').length);
    await frame();
    const box = document.querySelector('.reveal .slides').getBoundingClientRect();
    const scale = box.width / W;
    let bottom = 0, right = 0, left = 0, top = 0, worst = null;
    const scrolled = [];
    for (const el of s.querySelectorAll('*')) {
      if (el.closest('aside.notes')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const b = (r.bottom - box.top) / scale - H, rt = (r.right - box.left) / scale - W;
      const l = (box.left - r.left) / scale, t = (box.top - r.top) / scale;
      if (b > bottom) { bottom = b; worst = el; }
      if (rt > right) { right = rt; worst = el; }
      left = Math.max(left, l); top = Math.max(top, t);
      const style = getComputedStyle(el);
      if (/(auto|scroll)/.test(style.overflowX + style.overflowY) &&
          (el.scrollWidth > el.clientWidth + 2 || el.scrollHeight > el.clientHeight + 2)) {
        scrolled.push(el.tagName.toLowerCase() + '.' + [...el.classList].join('.'));
      }
    }
    const images = [...s.querySelectorAll('img')];
    const broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
    const heading = s.querySelector('h1, h2, h3, h4');
    const text = (heading ? heading.textContent : s.textContent).trim().replace(/\\s+/g, ' ');
    results.push({n: n + 1, h: idx.h, v: idx.v, title: text.slice(0, 70),
                  overflow_px: Math.round(Math.max(bottom, right, left, top)),
                  bottom: Math.round(bottom), right: Math.round(right),
                  worst: worst ? worst.tagName.toLowerCase() + '.' + [...worst.classList].join('.') : '',
                  scrolled: scrolled.slice(0, 3), images: images.length, broken: broken});
  }
  return results;
}"""

TOLERANCE_PX = 2


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def slide_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("slides")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_slide_fits_1280x720_and_shows_its_figures(browser, slide_dir, notebook):
    from mflab import slides

    (ARTIFACTS / "slides").mkdir(parents=True, exist_ok=True)
    problems, report = [], []
    for deck in slides.build([notebook], slide_dir):
        name = Path(deck["deck"]).name.replace(".slides.html", "")
        page, refused, errors = _offline_page(browser)
        page.goto(Path(deck["deck"]).as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
        results = page.evaluate(_CHECK_SLIDES, [WIDTH, HEIGHT])
        shown = next((r for r in results if r["images"] and not r["broken"]), results[0])
        page.evaluate("([h, v]) => Reveal.slide(h, v)", [shown["h"], shown["v"]])
        page.screenshot(path=str(ARTIFACTS / "slides" / f"{name}.png"))
        for r in results:
            bad = []
            if r["overflow_px"] > TOLERANCE_PX:
                bad.append(f"content overflows by {r['overflow_px']} px (bottom {r['bottom']}, "
                           f"right {r['right']}; largest: {r['worst']})")
            if r["scrolled"]:
                bad.append(f"needs a scroll bar: {', '.join(r['scrolled'])}")
            if r["broken"]:
                bad.append(f"{r['broken']} of {r['images']} images missing or broken")
            if bad:
                page.evaluate("([h, v]) => Reveal.slide(h, v, 99)", [r["h"], r["v"]])
                page.screenshot(path=str(ARTIFACTS / "slides" / f"{name}-overflow-{r['n']:02d}.png"))
                problems.append(f"{name} slide {r['n']} (#/{r['h']}/{r['v']}) '{r['title']}': "
                                + "; ".join(bad))
        report.append(f"{name}: {len(results)} slides")
        if refused:
            problems.append(f"{name} asked for the network: {sorted(set(refused))[:3]}")
        if errors:
            problems.append(f"{name} raised JavaScript errors: {errors[:2]}")
        page.close()
    (ARTIFACTS / "slides" / f"{notebook.stem}-report.txt").write_text("\n".join(report + problems) + "\n")
    assert not problems, f"{len(problems)} slide problems:\n" + "\n".join(problems)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(browser, tmp_path_factory):
    """Lesson 10 served by Voila on a free local port, with the venv's kernel."""
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    env.pop("MPLBACKEND", None)  # the inline backend draws the map into the page
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voila", str(DEMO), "--no-browser",
                                 f"--port={port}", "--Voila.ip=127.0.0.1"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Voila did not start; its log:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _titles(page, css):
    return page.eval_on_selector_all(f".{css} tbody tr", "rows => rows.map(r => r.cells[0].textContent.trim())")


def test_demo_in_voila_rates_three_movies_and_recommends_others(browser, voila_url):
    from mflab.demo import CSS

    page, refused, errors = _offline_page(browser, allowed=(voila_url, "data:", "blob:", "about:"))
    page.set_default_timeout(60_000)
    page.goto(voila_url, timeout=120_000)
    page.wait_for_selector(f".{CSS['recs']} tbody tr", timeout=120_000)  # the kernel ran the notebook
    before = _titles(page, CSS["recs"])
    assert len(before) == 10
    chosen = []
    for n, query in enumerate(("toy story", "aladdin", "lion king")):
        page.fill(f".{CSS['search']} input", query)
        page.wait_for_function("([css, q]) => { const s = document.querySelector('.' + css + ' select');"
                               " return s && s.options.length && s.options[0].text.replace(/\\s+/g, ' ').toLowerCase().includes(q); }",
                               arg=[CSS["results"], query])
        chosen.append(page.eval_on_selector(f".{CSS['results']} select",
                                            "s => s.options[0].text.replace(/\\s+/g, ' ')"))
        page.click(f".{CSS['add']}")
        page.wait_for_function("([css, k]) => document.querySelectorAll('.' + css + ' tbody tr').length === k",
                               arg=[CSS["rated"], n + 1])
    rated = _titles(page, CSS["rated"])
    assert len(rated) == 3 and all(c.startswith(r) for c, r in zip(chosen, rated))
    page.wait_for_function("([css, old]) => { const rows = [...document.querySelectorAll('.' + css + ' tbody tr')]"
                           ".map(r => r.cells[0].textContent.trim()); return rows.length === 10 && rows.join('|') !== old; }",
                           arg=[CSS["recs"], "|".join(before)])
    after = _titles(page, CSS["recs"])
    popular = _titles(page, CSS["popular"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    assert after != before, "the top 10 did not change after three ratings"
    assert not set(after) & set(rated), f"rated movies recommended: {set(after) & set(rated)}"
    assert len(popular) == 10 and not set(popular) & set(rated)
    page.wait_for_selector(f".{CSS['map']} img")
    assert page.eval_on_selector(f".{CSS['map']} img", "i => i.naturalWidth") > 0
    # Voila's own page template links Font Awesome's style sheet from a CDN (icons only; the app
    # uses none and renders without it). Anything else from outside is a failure.
    refused = [u for u in refused if "fontawesome-free" not in u]
    assert not refused, f"the demo asked for the network: {sorted(set(refused))[:5]}"
    assert not errors, f"JavaScript errors: {errors[:3]}"
    page.close()
