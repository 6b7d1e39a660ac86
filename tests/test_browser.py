"""The instructor kit in a real browser: every slide deck and the Voila demo, driven by Playwright.

Playwright is pointed at the system Chromium (/usr/bin/chromium, or MFLAB_CHROMIUM); it never
downloads a browser. Every request that leaves the machine is refused and reported, so a deck or
the demo that needs the network fails here as it would in an offline classroom.

Without Chromium the tests are skipped (``apt-get install chromium`` enables them), except under
CI (the CI variable set), where a missing browser is a failure: CI must never skip them.
Screenshots (one slide per lesson, every slide with a problem, the demo after rating) go to
test-artifacts/ (ignored by git) for a person to look at.

The slide check cannot pass on nothing: it requires Reveal to have loaded every slide the HTML
holds (at least one), every figure the notebook shows on its slides to be in the deck and decoded,
and it is itself tested on a small deck built to fail (test_slide_check_catches_what_it_should).
"""
from __future__ import annotations

import base64
import os
import re
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
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TOLERANCE_PX = 2
# A figure may be shown smaller than drawn (dpi 110) by this factor at most, to fit the slide
# (mflab.slides shrinks figures by at most 20 %).
MIN_FIGURE_SCALE = 0.79


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium "
                    "when it runs as root)")
    pytest.skip(f"{reason}; to run the browser tests: apt-get install chromium (as root), or point "
                "MFLAB_CHROMIUM at a Chromium binary, then make test")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
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
    """A 1280x720 page whose requests outside ``allowed`` prefixes are aborted and recorded.

    The route is on the browser context, so it also covers windows the page opens (speaker view).
    """
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    refused, errors = [], []

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, refused, errors


# Step through every slide; for each, every element's box must lie inside the slide's 1280x720 box
# (Reveal scales it into the viewport), no element may need a scroll bar, every image must be
# decoded (naturalWidth > 0) and shown at no less than MIN_FIGURE_SCALE of its size, and no formula
# may be left as raw TeX or a KaTeX error. Fragments are all shown, so the slide is measured at its
# fullest; the deck's own figure fitting (mflabFit) runs first, as it does when a person navigates.
_CHECK_SLIDES = """async ([W, H]) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const describe = el => el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join('');
  const results = [];
  const slides = Reveal.getSlides();
  for (let n = 0; n < slides.length; n++) {
    const s = slides[n];
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v, s.querySelectorAll('.fragment').length);
    await frame();
    await window.mflabFit(s);
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
        scrolled.push(describe(el));
      }
    }
    const images = [...s.querySelectorAll('img')].filter(i => !i.closest('aside.notes'));
    const broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
    const shown = images.filter(i => i.naturalWidth > 0)
      .map(i => i.getBoundingClientRect().width / scale / i.naturalWidth);
    let rawTex = 0;
    for (const md of s.querySelectorAll('.jp-RenderedMarkdown, .jp-RenderedLatex')) {
      const walker = document.createTreeWalker(md, NodeFilter.SHOW_TEXT);
      let t;
      while ((t = walker.nextNode())) {
        if (!t.parentNode.closest('pre, code, aside.notes') && /\\$[^$\\s][^$]*\\$/.test(t.nodeValue)) rawTex++;
      }
    }
    const heading = s.querySelector('h1, h2, h3, h4');
    const text = (heading ? heading.innerText : s.innerText).replace(/\\u00b6/g, '').trim()
      .replace(/\\s+/g, ' ');
    results.push({n: n + 1, h: idx.h, v: idx.v, title: text.slice(0, 70),
                  overflow_px: Math.round(Math.max(bottom, right, left, top)),
                  bottom: Math.round(bottom), right: Math.round(right),
                  worst: worst ? describe(worst) : '',
                  scrolled: scrolled.slice(0, 3), images: images.length, broken: broken,
                  figure_scale: shown.length ? Math.min(...shown) : 1,
                  katex_errors: s.querySelectorAll('.katex-error').length, raw_tex: rawTex,
                  notes: (s.querySelector('aside.notes') || {textContent: ''}).textContent.trim()});
  }
  return results;
}"""


def expected_on_slides(notebook: Path) -> dict:
    """What the deck of ``notebook`` must show: its PNG figures and its slide count, from the file."""
    import nbformat

    from mflab import slides

    nb = nbformat.read(notebook, as_version=4)
    slides.infer_slide_types(nb)
    figures = 0
    for cell in nb.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind in ("skip", "notes") or slides.SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        figures += sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    return {"figures": figures}


def _leaf_sections(html_text: str) -> int:
    """Slides in the deck's HTML: <section> elements that hold no <section>."""
    tags = re.findall(r"<(/?)section\b", html_text)
    count, stack = 0, []
    for closing in tags:
        if not closing:
            stack.append(False)  # has it a child section?
            if len(stack) > 1:
                stack[-2] = True
        else:
            count += not stack.pop()
    return count


def check_deck(browser, deck: Path, expected: dict, shots: Path | None = None):
    """Open ``deck`` offline, measure every slide; return (per-slide results, problems)."""
    name = deck.name.replace(".slides.html", "")
    page, refused, errors = _offline_page(browser)
    problems = []
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("!!(window.Reveal && Reveal.isReady() && window.katex && typeof window.mflabFit === 'function')",
                               timeout=20_000)
        results = page.evaluate(_CHECK_SLIDES, [WIDTH, HEIGHT])
        in_html = _leaf_sections(deck.read_text(encoding="utf-8"))
        if not results or len(results) != in_html:
            problems.append(f"{name}: Reveal shows {len(results)} slides, the HTML holds {in_html}")
        images = sum(r["images"] for r in results)
        if images != expected["figures"]:
            problems.append(f"{name}: {images} images on the slides, but the notebook shows "
                            f"{expected['figures']} figures outside skipped cells")
        for r in results:
            bad = []
            if r["overflow_px"] > TOLERANCE_PX:
                bad.append(f"content overflows by {r['overflow_px']} px (bottom {r['bottom']}, "
                           f"right {r['right']}; largest: {r['worst']})")
            if r["scrolled"]:
                bad.append(f"needs a scroll bar: {', '.join(r['scrolled'])}")
            if r["broken"]:
                bad.append(f"{r['broken']} of {r['images']} images missing or broken")
            if r["figure_scale"] < MIN_FIGURE_SCALE:
                bad.append(f"a figure is shown at {r['figure_scale']:.0%} of its size (too small to "
                           f"read; at least {MIN_FIGURE_SCALE:.0%})")
            if r["katex_errors"] or r["raw_tex"]:
                bad.append(f"formulas not typeset: {r['katex_errors']} KaTeX errors, "
                           f"{r['raw_tex']} raw $...$")
            if bad:
                if shots:
                    page.evaluate("([h, v]) => Reveal.slide(h, v, 99)", [r["h"], r["v"]])
                    page.screenshot(path=str(shots / f"{name}-problem-{r['n']:02d}.png"))
                problems.append(f"{name} slide {r['n']} (#/{r['h']}/{r['v']}) '{r['title']}': "
                                + "; ".join(bad))
        if shots and results:
            # The slide a person looks at first: the first with a figure that fitted.
            shown = next((r for r in results if r["images"] and not r["broken"]
                          and r["overflow_px"] <= TOLERANCE_PX), results[0])
            page.evaluate("([h, v]) => Reveal.slide(h, v, 99)", [shown["h"], shown["v"]])
            page.evaluate("() => mflabFit(Reveal.getCurrentSlide())")
            page.screenshot(path=str(shots / f"{name}.png"))
        if refused:
            problems.append(f"{name} asked for the network: {sorted(set(refused))[:3]}")
        if errors:
            problems.append(f"{name} raised JavaScript errors: {errors[:2]}")
    finally:
        page.context.close()
    return results, problems


@pytest.fixture(scope="module")
def slide_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("slides")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_slide_fits_1280x720_and_shows_its_figures(browser, slide_dir, notebook):
    from mflab import slides

    shots = ARTIFACTS / "slides"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob(f"{notebook.stem}-problem-*.png"):
        old.unlink()
    (deck,) = slides.build([notebook], slide_dir)
    results, problems = check_deck(browser, Path(deck["deck"]), expected_on_slides(notebook), shots)
    report = [f"{notebook.stem}: {len(results)} slides, {sum(r['images'] for r in results)} figures"]
    (shots / f"{notebook.stem}-report.txt").write_text("\n".join(report + problems) + "\n")
    assert not problems, f"{len(problems)} slide problems:\n" + "\n".join(problems)


def _png(width: int, height: int) -> str:
    """A blank width x height PNG, base64 (what a notebook stores for a figure)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + b"\xff" * (3 * width) for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def test_slide_check_catches_what_it_should(browser, tmp_path):
    """The check on a deck built to fail: it must flag exactly the bad slides, and say why."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from mflab import slides

    def md(text, kind):
        return new_markdown_cell(text, metadata={"slideshow": {"slide_type": kind}})

    def figure(png, kind):
        return new_code_cell("draw()", metadata={"slideshow": {"slide_type": kind}},
                             outputs=[new_output("display_data", data={"image/png": png})])

    cells = [
        md("# Fits\n\nOne line, and $x^2$ typeset.", "slide"),
        md("## Too long\n\n" + "\n\n".join(f"Paragraph {n}." for n in range(40)), "slide"),
        figure("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" + "A" * 40, "slide"),  # a PNG that does not decode
        md("## Too wide\n\n<div style='width: 1600px'>wide</div>", "slide"),
        md("## A figure a little too tall, shrunk to fit", "slide"),
        figure(_png(600, 700), "-"),
        md("## A figure far too tall to shrink honestly", "slide"),
        figure(_png(600, 1100), "-"),
        md("## Raw TeX: $\\frac{1}{$", "slide"),
        md("## Skipped figure", "slide"),
        figure(_png(100, 100), "skip"),
    ]
    notebook = tmp_path / "selftest.ipynb"
    nbformat.write(new_notebook(cells=cells), notebook)
    (deck,) = slides.build([notebook], tmp_path / "out")
    results, problems = check_deck(browser, Path(deck["deck"]), expected_on_slides(notebook))
    flagged = {int(re.search(r"slide (\d+) ", p).group(1)): p for p in problems if " slide " in p}
    assert len(results) == 8 and expected_on_slides(notebook)["figures"] == 3
    assert sorted(flagged) == [2, 3, 4, 6, 7], problems
    assert "overflows" in flagged[2] and "bottom" in flagged[2]
    assert "images missing or broken" in flagged[3]
    assert "right 3" in flagged[4] or "overflows" in flagged[4]
    assert "overflows" in flagged[6] and "of its size" not in flagged[6]
    assert "formulas not typeset" in flagged[7]
    fitted = results[4]
    assert fitted["overflow_px"] <= TOLERANCE_PX and MIN_FIGURE_SCALE <= fitted["figure_scale"] < 1

    # A figure gone from the deck (its output removed) is caught by the count against the notebook.
    _, problems = check_deck(browser, Path(deck["deck"]), {"figures": 4})
    assert any("the notebook shows 4 figures" in p for p in problems)


def test_speaker_view_opens_offline_with_the_notes(browser, tmp_path):
    """S opens reveal's speaker view (a pop-up window built by the notes plugin): it must show the
    current slide's notes and fetch nothing from the network."""
    import nbformat

    from mflab import slides

    notebook = ROOT / "notebooks" / "01_toy_sgd.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    first_notes = next(c.source for c in nb.cells
                       if c.metadata.get("slideshow", {}).get("slide_type") == "notes")
    (deck,) = slides.build([notebook], tmp_path)
    page, refused, errors = _offline_page(browser)
    try:
        page.goto(Path(deck["deck"]).as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
        with page.context.expect_page() as popup_info:
            page.keyboard.press("s")
        popup = popup_info.value
        popup.wait_for_function("() => { const n = document.querySelector('.speaker-controls-notes .value');"
                                " return n && n.textContent.includes('Speaker notes'); }", timeout=20_000)
        shown = popup.eval_on_selector(".speaker-controls-notes .value", "n => n.textContent")
        assert " ".join(first_notes.split()[:6]) in " ".join(shown.split())
        assert re.search(r"Speaker notes: \d+ minutes", shown)
        popup.close()
    finally:
        page.context.close()
    assert not refused, f"the speaker view asked for the network: {sorted(set(refused))[:3]}"
    assert not errors, f"JavaScript errors: {errors[:2]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(browser, tmp_path_factory):
    """What `make demo` serves (lesson 10's app cells, mflab.demo.app_page), by Voila on a free
    local port, with the venv's kernel."""
    from mflab import demo

    port = _free_port()
    folder = tmp_path_factory.mktemp("voila")
    log = folder / "voila.log"
    page = demo.app_page(DEMO, folder / "app")
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    env.pop("MPLBACKEND", None)  # the inline backend draws the map into the page
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voila", str(page), "--no-browser",
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
        old_map = page.eval_on_selector(f".{CSS['map']} img", "i => i.src")
        page.click(f".{CSS['add']}")
        page.wait_for_function("([css, k]) => document.querySelectorAll('.' + css + ' tbody tr').length === k",
                               arg=[CSS["rated"], n + 1])
        # the map is redrawn after every rating: wait for the new picture before going on
        page.wait_for_function("([css, old]) => { const i = document.querySelector('.' + css + ' img');"
                               " return i && i.src !== old && i.complete && i.naturalWidth > 0; }",
                               arg=[CSS["map"], old_map])
    rated = _titles(page, CSS["rated"])
    assert len(rated) == 3 and all(c.startswith(r) for c, r in zip(chosen, rated))
    page.wait_for_function("([css, old]) => { const rows = [...document.querySelectorAll('.' + css + ' tbody tr')]"
                           ".map(r => r.cells[0].textContent.trim()); return rows.length === 10 && rows.join('|') !== old; }",
                           arg=[CSS["recs"], "|".join(before)])
    after = _titles(page, CSS["recs"])
    popular = _titles(page, CSS["popular"])
    ARTIFACTS.mkdir(exist_ok=True)
    # Voila scrolls inside its own container, so a full-page shot would stop at the viewport: show
    # the app (search box down to the latent map) in a taller window instead.
    page.set_viewport_size({"width": WIDTH, "height": 1200})
    page.locator(f".{CSS['search']}").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "demo.png"))
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
    page.context.close()
