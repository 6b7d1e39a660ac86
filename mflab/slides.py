"""Slide decks from the lessons: one reveal.js deck per notebook, built offline.

``python -m mflab.slides [--out slides] [notebook ...]`` (``make slides``) writes
``slides/NN_topic.slides.html`` for every lesson and ``slides/index.html`` linking them. The deck is
nbconvert's reveal.js export (``jupyter nbconvert --to slides``) of the stored notebook, with its
outputs, driven by each cell's ``metadata.slideshow.slide_type``:

- cells tagged ``solution`` never reach a deck; cells tagged ``slides-hide-code`` show their output
  only (the code just calls ``mflab`` to draw); ``notes`` cells go to the speaker view (S key);
- a source listing (``mflab.show``) too long for one slide is cut at blank lines into parts, each
  further part on a sub-slide of its own (:func:`split_long_listings`); the notebook is untouched;
- links to a sibling lesson (``02_x.ipynb``) lead to its deck;
- a lesson with no slide metadata at all still gets a deck: each heading starts a slide and every
  other cell a sub-slide (:func:`infer_slide_types`).

The slides are 1280x720: prose 20 px, code and printed output 18 px (a longer line than the slide
wraps), figures at the size they were drawn (dpi 110), shrunk by at most 20 % when a slide's figures
would push it past the bottom edge. ``tests/test_browser.py`` opens every deck in Chromium and fails
on any slide that still overflows.

nbconvert's template loads reveal.js and MathJax from a CDN, which a classroom without network
cannot reach. The decks here need nothing but the venv: reveal.js 4 (script, style sheet, white
theme, speaker-notes plugin) and KaTeX come out of the copy that ``jupyterlab-rise`` (the ``lab``
extra) ships inside its JupyterLab extension, whose source maps carry the original files. They are
written once to ``slides/_assets/`` as plain scripts, so a deck also opens from disk (``file://``),
where browsers refuse ES modules. Formulas are typeset by KaTeX as MathML, which needs no fonts.
"""
from __future__ import annotations

import argparse
import html
import importlib.util
import json
import re
import sys
from pathlib import Path

SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
HIDE_CODE_TAG = "slides-hide-code"
SOLUTION_TAG = "solution"
ASSETS = "_assets"

# (file written under _assets/, the file's path inside reveal.js's or KaTeX's npm package)
_SOURCES = {
    "reveal/dist/reveal.js": "node_modules/reveal.js/dist/reveal.esm.js",
    "reveal/dist/reveal.css": "node_modules/reveal.js/dist/reveal.css",
    "reveal/dist/theme/white.css": "node_modules/reveal.js/dist/theme/white.css",
    "reveal/plugin/notes/notes.js": "node_modules/reveal.js/plugin/notes/notes.esm.js",
    "katex/katex.js": "node_modules/katex/dist/katex.mjs",
}


def _rise_static() -> Path:
    spec = importlib.util.find_spec("jupyterlab_rise")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mflab.slides needs the jupyterlab-rise package (it ships the reveal.js "
                           "and KaTeX files the decks use offline): run `make setup`, which installs "
                           "the `lab` extra")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _bundled_sources(wanted) -> dict:
    """Original text of each wanted npm file, read from jupyterlab-rise's source maps."""
    found = {}
    for path in sorted(_rise_static().glob("*.js.map")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not any(w in text for w in wanted if w not in found):
            continue
        data = json.loads(text)
        for name, content in zip(data.get("sources", []), data.get("sourcesContent") or []):
            for w in wanted:
                if w not in found and content and name.endswith(w):
                    found[w] = content
    missing = [w for w in wanted if w not in found]
    if missing:
        raise RuntimeError(f"jupyterlab-rise at {_rise_static()} no longer carries {missing}; "
                           "mflab.slides needs a version that bundles reveal.js 4 and KaTeX")
    return found


def _css_from_loader(module: str) -> str:
    """The style sheet inside a css-loader module: its first template literal after module.id."""
    start = module.index("___CSS_LOADER_EXPORT___.push([module.id, `") + len("___CSS_LOADER_EXPORT___.push([module.id, `")
    out, i = [], start
    while module[i] != "`":
        if module[i] == "\\":
            out.append(module[i + 1])
            i += 2
        else:
            out.append(module[i])
            i += 1
    return "".join(out)


def _as_classic_script(module: str, global_name: str) -> str:
    """An ES module with one default export, as a plain script that sets ``window.<global_name>``."""
    body, n = re.subn(r"export\s+default\s*(?=\(|[A-Za-z_$])", f"window.{global_name}=", module, count=1)
    if n == 0:  # `export { ..., x as default, ... };`
        m = re.search(r"export\s*\{([^}]*)\};?", module)
        default = re.search(r"(\w+)\s+as\s+default", m.group(1)) if m else None
        if default is None:
            raise RuntimeError(f"cannot find the default export for {global_name}")
        body = module[:m.start()] + f"window.{global_name}={default.group(1)};" + module[m.end():]
    body = re.sub(r"^//# sourceMappingURL=.*$", "", body, flags=re.M)
    return f"(function(){{\n{body}\n}})();\n"


def write_assets(out: Path) -> Path:
    """Write reveal.js and KaTeX under ``out/_assets`` (skipped when already there); return it."""
    assets = Path(out) / ASSETS
    if all((assets / name).is_file() for name in _SOURCES):
        return assets
    sources = _bundled_sources(list(_SOURCES.values()))
    for name, source in _SOURCES.items():
        text = sources[source]
        if name.endswith(".css"):
            text = _css_from_loader(text)
            text = re.sub(r"^@import url\([^)]*\);\s*$", "", text, flags=re.M)  # web fonts: offline
        elif name.endswith("reveal.js"):
            text = _as_classic_script(text, "Reveal")
        elif name.endswith("notes.js"):
            text = _as_classic_script(text, "RevealNotes")
        else:
            text = _as_classic_script(text, "katex")
        target = assets / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return assets


# The deck template: nbconvert's reveal template with every CDN script replaced by the local copies.
_TEMPLATE = (Path(__file__).parent / "templates" / "deck.html.j2").read_text(encoding="utf-8")


def infer_slide_types(nb) -> bool:
    """Give a notebook without any slide metadata a usable default (in place); True if it did.

    A markdown cell starting with a heading starts a slide; every other cell is a sub-slide, so no
    slide piles up a whole section. Solution cells are skipped.
    """
    if any("slideshow" in cell.metadata for cell in nb.cells):
        return False
    for cell in nb.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            kind = "skip"
        elif cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            kind = "slide"
        else:
            kind = "subslide"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return True


# A source listing (``mflab.show``'s output: one fenced code block) longer than this many lines of
# 113 characters does not fit a slide: the deck cuts it into parts (:func:`split_long_listings`).
MAX_LISTING_LINES = 26
_CHARS_PER_LINE = 113


def _cut(lines: list[str], max_lines: int) -> list[list[str]]:
    """Cut ``lines`` into parts of at most ``max_lines`` displayed lines (a line longer than the
    slide wraps), at the last blank line of the second half of each part where there is one."""
    size = [max(1, -(-len(line.expandtabs()) // _CHARS_PER_LINE)) for line in lines]
    parts, start = [], 0
    while sum(size[start:]) > max_lines:
        end, used = start, 0
        while end < len(lines) and used + size[end] <= max_lines:
            used += size[end]
            end += 1
        end = max(end, start + 1)
        blanks = [i for i in range(start + (end - start) // 2, end) if not lines[i].strip()]
        if blanks:  # cut at the blank line, and drop it
            parts.append(lines[start:blanks[-1]])
            start = blanks[-1] + 1
        else:
            parts.append(lines[start:end])
            start = end
    parts.append(lines[start:])
    return [part for part in parts if part]


def split_long_listings(nb, max_lines: int = MAX_LISTING_LINES) -> int:
    """Cut every source listing too long for one slide into parts (in place; the file is untouched).

    The first part stays where the listing is; each further part is a sub-slide of its own, headed
    "*name*, continued", so the whole of the real source is shown and every part fits. Returns the
    number of sub-slides added.
    """
    from nbformat.v4 import new_markdown_cell

    cells, added = [], 0
    for cell in nb.cells:
        cells.append(cell)
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if cell.cell_type != "code" or kind in ("skip", "notes") \
                or SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown")
            m = re.fullmatch(r"```(\w*)\n(.*?)\n?```\s*", text, flags=re.S) if isinstance(text, str) else None
            if m is None:
                continue
            lang, lines = m.group(1), m.group(2).split("\n")
            parts = _cut(lines, max_lines)
            if len(parts) < 2:
                continue
            name = re.match(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)", lines[0])
            label = f"`{name.group(1)}`, continued" if name else "continued"
            out.data["text/markdown"] = f"```{lang}\n" + "\n".join(parts[0]) + "\n```"
            for part in parts[1:]:
                cells.append(new_markdown_cell(f"*{label}*\n\n```{lang}\n" + "\n".join(part) + "\n```",
                                               metadata={"slideshow": {"slide_type": "subslide"}}))
                added += 1
    nb.cells = cells
    return added


def _link_decks(body: str, folder: Path) -> str:
    """Links to a sibling lesson (``02_x.ipynb``) point at its deck (``02_x.slides.html``)."""
    def deck(m):
        return f'href="{m.group(1)}.slides.html{m.group(2) or ""}"' \
            if (folder / f"{m.group(1)}.ipynb").is_file() else m.group(0)
    return re.sub(r'href="([^"/:#?]+)\.ipynb(#[^"]*)?"', deck, body)


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {SOLUTION_TAG}
    c.TagRemovePreprocessor.remove_input_tags = {HIDE_CODE_TAG}
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.reveal_url_prefix = f"{ASSETS}/reveal"
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_width = str(SLIDE_WIDTH)
    c.SlidesExporter.reveal_height = str(SLIDE_HEIGHT)
    return SlidesExporter(config=c, extra_loaders=[DictLoader({"mflab_deck.html.j2": _TEMPLATE})],
                          template_file="mflab_deck.html.j2")


def lesson_title(nb, fallback: str) -> str:
    """The first markdown heading of the notebook, without its '#' marks."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


def build(notebooks, out="slides") -> list[dict]:
    """Write one deck per notebook into ``out`` plus ``out/index.html``; return what was built:
    one dict per deck with ``notebook``, ``deck`` (path), ``title``, ``inferred`` (no metadata) and
    ``minutes`` (the speaker notes' timings, added up)."""
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_assets(out)
    exporter = _exporter()
    built = []
    for path in sorted(Path(p) for p in notebooks):
        nb = nbformat.read(path, as_version=4)
        inferred = infer_slide_types(nb)
        split_long_listings(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        body = _link_decks(body, path.parent)
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        built.append({"notebook": str(path), "deck": str(deck), "title": lesson_title(nb, path.stem),
                      "inferred": inferred, "minutes": speaker_minutes(nb)})
    _write_index(out, built)
    return built


def speaker_minutes(nb) -> int:
    """The minutes the notebook's speaker notes give ("Speaker notes: section 2, 6 minutes."), added up."""
    total = 0
    for cell in nb.cells:
        m = re.match(r"Speaker notes:[^.]*?(\d+) minutes?\b", cell.source)
        if m and cell.metadata.get("slideshow", {}).get("slide_type") == "notes":
            total += int(m.group(1))
    return total


def _write_index(out: Path, built) -> None:
    rows = "\n".join(f'<li><a href="{html.escape(Path(b["deck"]).name)}">{html.escape(b["title"])}</a>'
                     + (f" ({b['minutes']} minutes in the speaker notes)" if b["minutes"] else "")
                     + (" <em>(no slide metadata yet: one slide per cell)</em>" if b["inferred"] else "")
                     + "</li>" for b in built)
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mflab slides</title>
<style>body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.6; }}</style>
</head><body>
<h1>mflab: slide decks</h1>
<p>One deck per lesson, built from the stored notebooks. Arrow keys move, <kbd>S</kbd> opens the
speaker view (notes and timings), <kbd>Esc</kbd> the overview. Everything works offline.</p>
<ul>
{rows}
</ul>
</body></html>
""", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mflab.slides", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", default="slides", help="output folder (default: slides)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks given and none in notebooks/", file=sys.stderr)
        return 1
    for b in build(notebooks, args.out):
        note = "  (no slide metadata: one slide per cell)" if b["inferred"] else ""
        print(f"{b['deck']}{note}")
    print(f"{Path(args.out) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
