"""The course in a real browser: every lecture deck, the student workspace in JupyterLab, the Voila demo.

Playwright drives the system Chromium (/usr/bin/chromium, or MFLAB_CHROMIUM); it never downloads a
browser. Every request that leaves the machine is refused and reported, so a deck or page that
needs the network fails here as it would in an offline classroom.

Without Chromium the tests are skipped (``apt-get install chromium`` enables them), except under
CI (the CI variable set), where a missing browser is a failure: CI must never skip them.
Screenshots (a formula slide and a figure slide per deck, every slide with a problem, the demo
after rating) go to test-artifacts/ (ignored by git) for a person to look at.

The checks cannot pass on nothing: the deck check is run on a deck built to fail
(test_slide_check_catches_what_it_should), and the workspace check opens one answer by hand and
must then see it.
"""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
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
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TOLERANCE_PX = 2
WORD_LIMIT = 60
# A figure slide draws its figure over at least this share of the slide's height or width.
FIGURE_HEIGHT, FIGURE_WIDTH = 0.6, 0.85
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]


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
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


def _offline_page(browser, allowed=("file://", "data:", "blob:", "about:"), viewport=(WIDTH, HEIGHT), context=None):
    """A page whose requests outside ``allowed`` prefixes are aborted and recorded, with its failed
    requests and JavaScript errors. In a context of its own the route is on the context, so it also
    covers pop-ups; its pattern is matched by the browser driver, so allowed requests never wait
    for Python."""
    log = {"refused": [], "failed": [], "errors": []}

    def refuse(r):
        log["refused"].append(r.request.url)
        r.abort()

    pattern = re.compile("^(?!" + "|".join(re.escape(a) for a in allowed) + ")")
    if context is None:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        context.route(pattern, refuse)
        page = context.new_page()
    else:
        page = context.new_page()
        page.route(pattern, refuse)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("requestfailed", lambda r: log["failed"].append(r.url) if r.url not in log["refused"] else None)
    return page, log


# ----------------------------------------------------------------------------------------- decks
# For every slide: shown (Reveal.slide) and fitted (the deck's mflabFit: MathJax done, images
# decoded, formulas and bodies fitted), then every element's box must lie inside the 1280x720
# slide, the visible words (notes excluded; a typeset formula counts as one) must be at most 60,
# every formula must be MathJax's SVG (no error, no MathML fallback, no raw TeX left), every image
# decoded, and a figure drawn over most of the slide.
_CHECK_SLIDES = """async ([W, H]) => {
  const describe = el => el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join('');
  const results = [];
  const slides = Reveal.getSlides();
  for (let n = 0; n < slides.length; n++) {
    const s = slides[n];
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v);
    await window.mflabFit(s);
    const box = document.querySelector('.reveal .slides').getBoundingClientRect();
    const scale = box.width / W;
    let over = 0, worst = '', bottom = 0, right = 0;
    for (const el of s.querySelectorAll('*')) {
      // a formula is measured as a whole, not glyph by glyph
      if (el.closest('aside.notes') || (el.parentElement && el.parentElement.closest('mjx-container'))) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const b = (r.bottom - box.top) / scale - H, rt = (r.right - box.left) / scale - W;
      const o = Math.max(b, rt, (box.left - r.left) / scale, (box.top - r.top) / scale);
      if (o > over) { over = o; worst = describe(el); bottom = b; right = rt; }
    }
    let words = 0, rawTex = 0;
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    let t;
    while ((t = walker.nextNode())) {
      const p = t.parentElement;
      if (!p || p.closest('aside.notes, script, style, mjx-container')) continue;
      words += (t.nodeValue.match(/\\S+/g) || []).filter(w => /[\\p{L}\\p{N}]/u.test(w)).length;
      if (!p.closest('pre, code') && /\\$[^$]+\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/.test(t.nodeValue)) rawTex++;
    }
    const maths = [...s.querySelectorAll('mjx-container')].filter(m => !m.closest('aside.notes'));
    words += maths.length;
    const images = [...s.querySelectorAll('img')].filter(i => !i.closest('aside.notes'));
    const shown = images.filter(i => i.naturalWidth > 0).map(i => {
      const r = i.getBoundingClientRect();
      const fit = getComputedStyle(i).objectFit === 'contain'
        ? Math.min(r.width / i.naturalWidth, r.height / i.naturalHeight) : r.width / i.naturalWidth;
      return [i.naturalHeight * fit / scale / H, i.naturalWidth * fit / scale / W];
    });
    results.push({n: n + 1, h: idx.h, v: idx.v || 0, kind: s.dataset.kind || '',
                  title: (s.querySelector('h2') || s).textContent.trim().replace(/\\s+/g, ' ').slice(0, 70),
                  overflow_px: Math.round(over), bottom: Math.round(bottom), right: Math.round(right), worst: worst,
                  words: words, formulas: +(s.dataset.formulas || 0),
                  display: maths.filter(m => m.getAttribute('display') === 'true').length,
                  not_svg: maths.filter(m => m.getAttribute('jax') !== 'SVG' || !m.querySelector('svg')).length,
                  math_errors: s.querySelectorAll('mjx-merror, [data-mjx-error]').length
                               + [...s.querySelectorAll('math')].filter(m => !m.closest('mjx-assistive-mml')).length,
                  raw_tex: rawTex, images: images.length,
                  broken: images.filter(i => !i.complete || i.naturalWidth === 0).length,
                  figure: shown.length ? shown.reduce((a, b) => (a[0] + a[1] < b[0] + b[1] ? a : b)) : null,
                  notes: (s.querySelector('aside.notes') || {textContent: ''}).textContent.trim().length});
  }
  return results;
}"""


def expected_on_slides(notebook: Path) -> dict:
    """What the deck of ``notebook`` must show, counted from the file: its figures (PNG outputs)
    and displayed formulas ($$...$$ in the prose, SymPy's LaTeX outputs) outside skipped,
    solution and instructor cells, speaker notes and the exercises."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    figures = formulas = 0
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and re.match(r"##\s+Exercises", text):
            break
        meta = cell.get("metadata", {})
        if meta.get("slideshow", {}).get("slide_type") in ("skip", "notes") \
                or {"solution", "instructor"} & set(meta.get("tags", [])) or text.startswith("Speaker notes"):
            continue
        if cell["cell_type"] == "markdown":
            formulas += len(re.findall(r"\$\$.+?\$\$", text, flags=re.S))
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            figures += "image/png" in data
            formulas += "text/latex" in data and "image/png" not in data
    return {"figures": figures, "formulas": formulas}


def _wait_for_deck(page):
    page.wait_for_function("!!(window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup"
                           " && MathJax.startup.promise && typeof window.mflabFit === 'function')",
                           timeout=60_000)


def check_deck(page, log, name: str, expected: dict | None = None, shots: Path | None = None):
    """Measure every slide of the deck open in ``page``; return (per-slide results, problems)."""
    _wait_for_deck(page)
    results = page.evaluate(_CHECK_SLIDES, [WIDTH, HEIGHT])
    problems = []
    if not results:
        problems.append(f"{name}: Reveal shows no slide")
    for r in results:
        bad = []
        if r["overflow_px"] > TOLERANCE_PX:
            bad.append(f"content overflows by {r['overflow_px']} px (bottom {r['bottom']}, right {r['right']}; "
                       f"largest: {r['worst']})")
        if r["words"] > WORD_LIMIT:
            bad.append(f"{r['words']} visible words (at most {WORD_LIMIT})")
        if r["broken"]:
            bad.append(f"{r['broken']} of {r['images']} images missing or broken")
        if r["figure"] and r["figure"][0] < FIGURE_HEIGHT and r["figure"][1] < FIGURE_WIDTH:
            bad.append(f"a figure drawn over only {r['figure'][0]:.0%} of the height and {r['figure'][1]:.0%} "
                       f"of the width")
        if r["math_errors"] or r["raw_tex"] or r["not_svg"] or r["display"] != r["formulas"]:
            bad.append(f"formulas not typeset by MathJax: {r['math_errors']} errors or MathML, {r['raw_tex']} raw "
                       f"TeX, {r['not_svg']} not SVG, {r['display']} displayed of {r['formulas']}")
        if bad:
            if shots:
                page.evaluate("([h, v]) => Reveal.slide(h, v)", [r["h"], r["v"]])
                page.screenshot(path=str(shots / f"{name}-problem-{r['n']:02d}.png"))
            problems.append(f"{name} slide {r['n']} (#/{r['h']}/{r['v']}, {r['kind']}) '{r['title']}': "
                            + "; ".join(bad))
    if expected is not None:
        images, formulas = sum(r["images"] for r in results), sum(r["display"] for r in results)
        if images != expected["figures"] or formulas != expected["formulas"]:
            problems.append(f"{name}: the slides show {images} figures and {formulas} displayed formulas; the "
                            f"notebook has {expected['figures']} and {expected['formulas']} outside skipped cells")
    if shots:
        for kind in ("formula", "figure"):
            shown = next((r for r in results if r["kind"] == kind and r["overflow_px"] <= TOLERANCE_PX), None)
            if shown:
                page.evaluate("([h, v]) => Reveal.slide(h, v)", [shown["h"], shown["v"]])
                page.evaluate("() => mflabFit(Reveal.getCurrentSlide())")
                page.screenshot(path=str(shots / f"{name}-{kind}.png"))
    if log["refused"]:
        problems.append(f"{name} asked for the network: {sorted(set(log['refused']))[:3]}")
    if log["failed"]:
        problems.append(f"{name}: requests failed: {sorted(set(log['failed']))[:3]}")
    if log["errors"]:
        problems.append(f"{name} raised JavaScript errors: {log['errors'][:2]}")
    return results, problems


@pytest.fixture(scope="module")
def decks(browser, servers, tmp_path_factory):
    """Every deck, built once (make slides' own code), each already loading in a page of its own so
    that MathJax typesets the decks side by side while the first ones are measured."""
    from mflab.course import slides

    out = tmp_path_factory.mktemp("slides")
    built = {Path(b["notebook"]).stem: b for b in slides.build(NOTEBOOKS, out)}
    for server in servers.values():
        server.poll(browser)
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    pages = {}
    for stem, b in built.items():
        page, log = _offline_page(browser, context=context)
        page.goto(Path(b["deck"]).as_uri(), wait_until="commit")
        pages[stem] = (page, log)
    yield built, pages
    context.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_deck_fits_the_room(browser, decks, servers, notebook):
    built, pages = decks
    shots = ARTIFACTS / "slides"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob(f"{notebook.stem}-*.png"):
        old.unlink()
    page, log = pages[notebook.stem]
    results, problems = check_deck(page, log, notebook.stem, expected_on_slides(notebook), shots)
    for server in servers.values():  # their pages open while the decks are measured
        server.poll(browser)
    assert len(results) == len(built[notebook.stem]["slides"]), "Reveal shows another number of slides"
    report = [f"{notebook.stem}: {len(results)} slides, {sum(r['images'] for r in results)} figures, "
              f"{sum(r['display'] for r in results)} formulas, at most {max(r['words'] for r in results)} words"]
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
    from mflab.course import assets, slides
    from mflab.course.deck import Slide, formula_html

    def figure(png, style=""):
        return f'<div class="mf-figure"><img src="data:image/png;base64,{png}" alt="" style="{style}"></div>'

    deck = [
        Slide("formula", "Fits", formula_html("x^2 + \\left(\\frac{a}{b}\\right)"), formulas=1),
        Slide("list", "Too many words", "<p>" + " ".join(f"word{n}" for n in range(70)) + "</p>"),
        Slide("figure", "Broken", figure("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" + "A" * 40), images=1),
        Slide("list", "Too wide", "<div style='width: 3000px'>wide</div>"),
        Slide("formula", "A TeX error", formula_html("\\frac{1}{"), formulas=1),
        Slide("list", "Raw TeX", '<p class="mf-output">$a + b$ left as typed</p>'),
        Slide("figure", "A figure too small", f'<img src="data:image/png;base64,{_png(100, 60)}" alt="">', images=1),
        Slide("figure", "A figure that fills the slide", figure(_png(800, 450)), images=1),
        Slide("list", "Text overflow, zoomed to fit", "<ul>" + "<li>one item</li>" * 14 + "</ul>"),
    ]
    assets.write_assets(tmp_path)
    path = tmp_path / "selftest.slides.html"
    path.write_text(slides.render(deck, "self-test"), encoding="utf-8")
    page, log = _offline_page(browser)
    try:
        page.goto(path.as_uri())
        results, problems = check_deck(page, log, "selftest")
    finally:
        page.context.close()
    flagged = {int(re.search(r"slide (\d+) ", p).group(1)): p for p in problems if " slide " in p}
    assert len(results) == len(deck)
    assert sorted(flagged) == [2, 3, 4, 5, 6, 7], problems
    assert "visible words" in flagged[2]
    assert "images missing or broken" in flagged[3]
    assert "overflows" in flagged[4] and "right" in flagged[4]
    assert "1 errors" in flagged[5] or "errors or MathML" in flagged[5]
    assert "raw TeX" in flagged[6] and "1 raw" in flagged[6]
    assert "figure drawn over only" in flagged[7]
    assert results[0]["display"] == 1 and results[0]["not_svg"] == 0
    assert results[7]["figure"][1] > FIGURE_WIDTH or results[7]["figure"][0] > FIGURE_HEIGHT


def test_speaker_view_opens_offline_with_the_notes_before_the_slides(browser, decks):
    """S opens reveal's speaker view: on the title slide it shows the lesson's first speaker notes
    (which the notebook places after the title cell); notes with maths arrive typeset; nothing comes
    from the network."""
    built, _ = decks
    first = next(iter(built.values()))
    nb = json.loads(Path(first["notebook"]).read_text(encoding="utf-8"))
    first_notes = next("".join(c["source"]) for c in nb["cells"] if "".join(c["source"]).startswith("Speaker notes"))
    page, log = _offline_page(browser)
    try:
        page.goto(Path(first["deck"]).as_uri())
        _wait_for_deck(page)
        with page.context.expect_page() as popup_info:
            page.keyboard.press("s")
        popup = popup_info.value
        popup.wait_for_function("() => { const n = document.querySelector('.speaker-controls-notes .value');"
                                " return n && n.textContent.includes('Speaker notes'); }", timeout=30_000)
        shown = popup.eval_on_selector(".speaker-controls-notes .value", "n => n.textContent")
        assert " ".join(first_notes.split()[:6]) in " ".join(shown.split())
        # notes with maths arrive typeset (each formula an SVG of its own), not as raw TeX
        n = next(i for i, x in enumerate(first["slides"]) if any("$" in note for note in x.notes))
        page.evaluate("n => Reveal.slide(n)", n)
        popup.wait_for_function("() => document.querySelector('.speaker-controls-notes .value mjx-container svg')",
                                timeout=30_000)
        raw = popup.eval_on_selector(".speaker-controls-notes .value", "n => /\\$[^$]+\\$/.test(n.textContent)")
        assert not raw, "raw TeX in the speaker notes"
        popup.close()
    finally:
        page.context.close()
    assert not log["refused"], f"the speaker view asked for the network: {sorted(set(log['refused']))[:3]}"
    assert not log["errors"], f"JavaScript errors: {log['errors'][:2]}"


# ------------------------------------------------- servers: JupyterLab on the workspace, Voila
# Both start as soon as the module does (when a selected test needs them) and their pages open as
# soon as their ports answer, so that JupyterLab runs the lesson and Voila fits its model while the
# decks are measured: the browser tests stay within about a minute on two cores.
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def cheapest_lesson(paths) -> Path:
    """The lesson whose first cell states the shortest run time ("runs in about 10 seconds"),
    fewest code cells first among equals; MFLAB_BROWSER_LESSON (a file name) overrides it."""
    chosen = os.environ.get("MFLAB_BROWSER_LESSON")
    if chosen:
        return next(p for p in paths if p.name == chosen)

    def cost(path):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        m = re.search(r"runs? in (?:about |under )?(\d+|a) (second|minute)", "".join(cells[0]["source"]))
        seconds = (1 if m.group(1) == "a" else int(m.group(1))) * (60 if m.group(2) == "minute" else 1) if m else 1e9
        return seconds, sum(c["cell_type"] == "code" for c in cells)
    return min(paths, key=cost)


def hidden_fragments(key: dict) -> list[str]:
    """Runs of five or more plain words from what a student must not see in the lesson dict ``key``:
    concept-check answers, solution prose and speaker notes (maths and markup cut out)."""
    from mflab.course import answers, views

    def secret(cell):
        return answers.tagged(cell) or views.is_speaker_notes(cell) or answers.tagged(cell, views.INSTRUCTOR_TAG)

    open_text = " ".join(" ".join(answers.cell_text(c).split()) for c in key["cells"] if not secret(c))
    out = []
    for cell in key["cells"]:
        if cell["cell_type"] != "markdown" or not secret(cell):
            continue
        text = answers.answer_body(answers.cell_text(cell))
        text = re.sub(r"\$\$.+?\$\$|\$[^$]+\$", "|", text, flags=re.S)
        for piece in re.split(r"[*`\[\]()#>|_\\]|\n\s*\n", text):
            words = piece.split()
            if len(words) >= 5 and not piece.lstrip().lower().startswith("solution") \
                    and " ".join(words) not in open_text:  # what the lesson also says openly may show
                out.append(" ".join(words))
    return out


_VISIBLE_TEXT = """() => {
  const root = window.jupyterapp.shell.currentWidget.node, out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let t;
  while ((t = walker.nextNode())) {
    const p = t.parentElement;
    if (!p || !p.getClientRects().length || getComputedStyle(p).visibility === 'hidden') continue;
    const closed = p.closest('details:not([open])');
    if (closed && !p.closest('summary')) continue;
    out.push(t.nodeValue);
  }
  return out.join(' ').replace(/\\s+/g, ' ');
}"""


# Run All, then save, from inside the page as soon as JupyterLab has opened the lesson; the test
# later awaits window.mflabRun (true when every cell ran).
_RUN_ALL = """if (window === window.top) window.mflabRun = new Promise((resolve, reject) => {
  const start = Date.now();
  setTimeout(() => reject('JupyterLab did not open, run and save the lesson within 300 s'), 300000);
  const tick = () => {
    const app = window.jupyterapp, w = app && app.shell.currentWidget;
    if (w && w.context && w.content && w.content.widgets && w.content.widgets.length) {
      (async () => {
        await w.context.ready; await w.sessionContext.ready;
        const ok = await app.commands.execute('notebook:run-all-cells');
        await app.commands.execute('docmanager:save');
        return ok;
      })().then(resolve, e => reject(String(e)));
    } else if (Date.now() - start < 300000) setTimeout(tick, 250);
  };
  tick();
});
if (window.mflabRun) window.mflabRun.catch(() => {});"""


class _Server:
    """A local server process (JupyterLab or Voila) and the page that opens on it."""

    def __init__(self, name, cmd, cwd, env, log, port, path, allowed=()):
        self.name, self.port, self.path, self.log = name, port, path, log
        self.url = f"http://127.0.0.1:{port}"
        self.allowed = (self.url,) + tuple(allowed) + ("data:", "blob:", "about:")
        with open(log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.page = self.page_log = None
        self.init_script = None
        self.viewport = (WIDTH, HEIGHT)

    def poll(self, browser) -> None:
        """Open the page if the port answers now (never waits)."""
        if self.page is None and self.proc.poll() is None and _port_open(self.port):
            self.page, self.page_log = _offline_page(browser, self.allowed, self.viewport)
            if self.init_script:
                self.page.add_init_script(self.init_script)
            self.page.goto(self.url + self.path, wait_until="commit", timeout=60_000)

    def wait(self, browser, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while self.page is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")
            self.poll(browser)
            time.sleep(0.2)
        return self.page, self.page_log

    def stop(self, shutdown_url: str | None = None, headers=None) -> None:
        """Ask the server to stop (it stops its kernels itself); :meth:`reap` waits for it."""
        if self.page is not None:
            self.page.context.close()
        if self.proc.poll() is not None:
            return
        if shutdown_url:
            import urllib.request

            try:
                urllib.request.urlopen(urllib.request.Request(shutdown_url, method="POST", headers=headers or {}),
                                       timeout=5).close()
                return
            except OSError:
                pass
        self.proc.terminate()

    def reap(self) -> None:
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _demo_notebook() -> Path | None:
    from mflab.demo import APP_TAG

    return next((p for p in NOTEBOOKS if f'"{APP_TAG}"' in p.read_text(encoding="utf-8")), None)


def _start_lab(base: Path) -> _Server:
    """`make workspace` (its code) into a fresh folder, served by JupyterLab with a token, settings
    of its own (every cell kept in the page: windowing off) and the venv's kernel."""
    from mflab.course import views

    ws = base / "workspace"
    views.write_view(ROOT / "notebooks", ws, overwrite=False, answers="click")
    settings = base / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1", JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"))
    env.pop("MPLBACKEND", None)  # the inline backend, as a student has it
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={ws}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    lesson = cheapest_lesson(NOTEBOOKS)
    server = _Server("JupyterLab", cmd, ws, env, base / "jupyterlab.log", port,
                     f"/lab/tree/{lesson.name}?token={token}")
    server.token, server.workspace, server.lesson = token, ws, lesson
    server.init_script, server.viewport = _RUN_ALL, (WIDTH, 900)
    return server


def _start_voila(base: Path) -> _Server:
    """What `make demo` serves (the lesson's app cells, mflab.demo.app_page) by Voila."""
    from mflab import demo

    page = demo.app_page(_demo_notebook(), base / "app")
    port = _free_port()
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1")
    env.pop("MPLBACKEND", None)  # the inline backend draws the map into the page
    cmd = [sys.executable, "-m", "voila", str(page), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    return _Server("Voila", cmd, ROOT, env, base / "voila.log", port, "/")


@pytest.fixture(scope="module", autouse=True)
def servers(request, browser, tmp_path_factory):
    """JupyterLab and Voila, started at once when a selected test needs them."""
    wanted = {getattr(item, "originalname", None) for item in request.session.items
              if getattr(item, "module", None) is request.module}  # nbval's cells have no module
    started = {}
    if "test_workspace_in_jupyterlab_hides_answers_and_leaves_the_key_alone" in wanted \
            and importlib.util.find_spec("jupyterlab") and shutil.which("git"):
        started["lab"] = _start_lab(tmp_path_factory.mktemp("lab"))
    if "test_demo_in_voila_rates_three_movies_and_recommends_others" in wanted and _demo_notebook():
        started["voila"] = _start_voila(tmp_path_factory.mktemp("voila"))
    yield started
    if "lab" in started:  # both asked to stop first, then both waited for
        lab = started["lab"]
        lab.stop(f"{lab.url}/api/shutdown", {"Authorization": f"token {lab.token}"})
    if "voila" in started:
        started["voila"].stop()
    for server in started.values():
        server.reap()


def _git_status():
    done = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "notebooks/"],
                          capture_output=True, text=True, timeout=30)
    return done.returncode, done.stdout


def test_workspace_in_jupyterlab_hides_answers_and_leaves_the_key_alone(browser, servers):
    """A student's first session: open a lesson of the workspace, Run All, save. No answer and no
    speaker note is on the page, the answers stay closed in the saved file, the lesson runs without
    an error, the notation link opens the workspace's README, and notebooks/ has not changed."""
    if "lab" not in servers:
        _unavailable("the workspace test needs jupyterlab (the `lab` extra) and git")
    lab = servers["lab"]
    key = json.loads(lab.lesson.read_text(encoding="utf-8"))
    copy_path = lab.workspace / lab.lesson.name
    before_copy = json.loads(copy_path.read_text(encoding="utf-8"))
    status_before = _git_status()
    page, log = lab.wait(browser)
    ran = page.evaluate("() => window.mflabRun")
    saved = json.loads(copy_path.read_text(encoding="utf-8"))
    visible = page.evaluate(_VISIBLE_TEXT)
    shown = [f for f in hidden_fragments(key) if f in visible]
    opened = page.evaluate("() => document.querySelectorAll('details[open]').length")
    closed = page.evaluate("() => document.querySelectorAll('details:not([open])').length")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("details").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "workspace-after-run-all.png"))
    # the detector is not blind: open one answer by hand, and it must see it
    page.locator("details summary").first.click()
    assert any(f in page.evaluate(_VISIBLE_TEXT) for f in hidden_fragments(key)), \
        "an answer opened by hand is not seen: the visibility check is blind"
    page.locator(".jp-RenderedMarkdown a", has_text="notation table").first.click()
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-RenderedMarkdown h2')].some(h =>
        h.textContent.includes('Notation') && h.getBoundingClientRect().top >= 0
        && h.getBoundingClientRect().top < window.innerHeight)""", timeout=30_000)
    # Run All stops at the first error; the only one allowed is an exercise's mflab.checks call,
    # which fails until the student has written the function it checks
    from mflab.course import views

    code = [c for c in saved["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    failed = next((n for n, c in enumerate(code) if any(o.get("output_type") == "error" for o in c["outputs"])), None)
    if failed is not None:
        assert views.check_calls("".join(code[failed]["source"])), \
            f"Run All failed in the workspace copy: {''.join(code[failed]['source'])[:80]!r}"
    else:
        assert ran is True, "Run All did not report success"
    assert all(c.get("execution_count") for c in code[:failed]), "not every code cell ran and was saved"
    assert not shown, f"answer or speaker-notes text visible after Run All: {shown[:3]}"
    assert "Speaker notes" not in visible
    assert opened == 0 and closed == sum("check-answer" in c["metadata"].get("tags", []) for c in saved["cells"]) > 0
    assert ["".join(c["source"]) for c in saved["cells"] if c["cell_type"] == "markdown"] == \
           ["".join(c["source"]) for c in before_copy["cells"] if c["cell_type"] == "markdown"], "saving changed the prose"
    assert _git_status() == status_before, "running the workspace changed notebooks/"
    assert not log["refused"], f"JupyterLab asked for the network: {sorted(set(log['refused']))[:3]}"


# ------------------------------------------------------------------------------ the Voila demo
def _titles(page, css):
    return page.eval_on_selector_all(f".{css} tbody tr", "rows => rows.map(r => r.cells[0].textContent.trim())")


def test_demo_in_voila_rates_three_movies_and_recommends_others(browser, servers):
    from mflab.demo import CSS

    if "voila" not in servers:
        pytest.skip("no lesson has cells tagged demo-app")
    page, log = servers["voila"].wait(browser)
    page.set_default_timeout(60_000)
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
    refused = [u for u in log["refused"] if "fontawesome-free" not in u]
    assert not refused, f"the demo asked for the network: {sorted(set(refused))[:5]}"
    assert not log["errors"], f"JavaScript errors: {log['errors'][:3]}"
