"""Lecture decks from the lessons: one reveal.js deck per notebook, built offline.

    python -m mflab.course.slides [--out slides] [notebook ...]      (make slides)

writes ``slides/NN_topic.slides.html`` for every lesson and ``slides/index.html`` linking them,
with the time each lesson states in its first cell. What goes on each slide is derived from the
lesson's content (:mod:`mflab.course.deck`): a title and one formula, figure, short table or
question per slide, the prose in the speaker notes (S opens the speaker view), no solution.

Slides are 1280x720. Formulas are typeset by MathJax 3 (SVG output, the TeX fonts drawn as paths,
brackets that stretch); MathJax and reveal.js are copied from the venv into ``slides/_assets/``
(:mod:`mflab.course.assets`), so a deck opens from disk (``file://``) with no network.
``tests/test_browser.py`` opens every deck in Chromium and measures every slide.
"""
from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

from . import deck as _deck
from . import lesson as _lesson
from .assets import ASSETS, MATHJAX, write_assets

SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
TEMPLATES = Path(__file__).parent / "templates"


def _template(name: str):
    from jinja2 import Environment, FileSystemLoader

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False).get_template(name)


def _link_decks(text: str, folder: Path | None) -> str:
    """Links to a sibling lesson (``02_x.ipynb``) point at its deck (``02_x.slides.html``)."""
    def deck(m):
        exists = folder is None or (folder / f"{m.group(1)}.ipynb").is_file()
        return f'href="{m.group(1)}.slides.html{m.group(2) or ""}"' if exists else m.group(0)
    return re.sub(r'href="([^"/:#?]+)\.ipynb(#[^"]*)?"', deck, text)


def render(slides, title: str, folder: Path | None = None) -> str:
    """The HTML of a deck made of ``slides`` (:class:`mflab.course.deck.Slide`); ``folder`` is where
    the lesson's siblings live (for links between decks)."""
    items = [{"kind": s.kind, "label": html.escape(s.label), "title_html": _deck.inline_html(s.title),
              "body": s.body, "formulas": s.formulas, "images": s.images,
              "notes_html": _link_decks("\n".join(_deck.markdown_html(n) for n in s.notes), folder)}
             for s in slides]
    return _template("deck.html.j2").render(slides=items, title=html.escape(title), assets=ASSETS,
                                            mathjax=MATHJAX, width=SLIDE_WIDTH, height=SLIDE_HEIGHT)


def build(notebooks, out="slides") -> list[dict]:
    """Write one deck per notebook into ``out`` plus ``out/index.html``; return, per deck:
    ``notebook``, ``deck`` (path), ``title``, ``minutes`` (as the lesson states them, or None) and
    ``slides`` (the :class:`~mflab.course.deck.Slide` list)."""
    import json

    paths = sorted(Path(p) for p in notebooks)
    if not paths:
        raise ValueError("notebooks is empty: give at least one lesson (*.ipynb)")
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise FileNotFoundError(f"notebooks: {path} is not a notebook file (*.ipynb)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_assets(out)
    built = []
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        slides = _deck.lesson_slides(nb, path.stem)
        title = _lesson.title(nb, path.stem)
        target = out / f"{path.stem}.slides.html"
        target.write_text(render(slides, title, path.parent), encoding="utf-8")
        built.append({"notebook": str(path), "deck": str(target), "title": title,
                      "minutes": _lesson.stated_minutes(nb), "slides": slides})
    _write_index(out, built)
    return built


def _write_index(out: Path, built) -> None:
    rows = "\n".join(f'<tr><td><a href="{html.escape(Path(b["deck"]).name)}">{html.escape(b["title"])}</a></td>'
                     f'<td class="n">{b["minutes"] if b["minutes"] else "not stated"}</td>'
                     f'<td class="n">{len(b["slides"])}</td></tr>' for b in built)
    total = sum(b["minutes"] or 0 for b in built)
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mflab: lecture decks</title>
<style>body {{ font-family: sans-serif; max-width: 56em; margin: 2em auto; line-height: 1.5; }}
td, th {{ padding: 4px 12px; text-align: left; }} td.n, th.n {{ text-align: right; }}</style>
</head><body>
<h1>mflab: lecture decks</h1>
<p>One deck per lesson, built from the lessons. Arrow keys move, <kbd>S</kbd> opens the speaker view
(the notes for each slide, the lesson's timings), <kbd>Esc</kbd> the overview. Everything works
offline. The minutes are those each lesson states in its first cell, exercises included.</p>
<table>
<thead><tr><th>Lesson</th><th class="n">Minutes</th><th class="n">Slides</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><th>All lessons</th><th class="n">{total}</th><th></th></tr></tfoot>
</table>
</body></html>
""", encoding="utf-8")


# A source listing (``mflab.show``'s output: one fenced code block) longer than this many lines of
# 113 characters does not fit a slide of code at 18 px.
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
        if blanks and blanks[-1] > start:  # cut at the blank line, and drop it
            parts.append(lines[start:blanks[-1]])
            start = blanks[-1] + 1
        else:
            parts.append(lines[start:end])
            start = end
    parts.append(lines[start:])
    return [part for part in parts if part]


def split_long_listings(nb, max_lines: int = MAX_LISTING_LINES) -> int:
    """Cut every source listing of the notebook node ``nb`` longer than ``max_lines`` (an int >= 1)
    into parts, in place, for presenting it live from the notebook (RISE); returns the sub-slides
    added. The lecture decks put listings in the speaker notes instead.

    The first part stays where the listing is; each further part is a sub-slide of its own, headed
    "*name*, continued", so the whole of the real source is shown."""
    from nbformat.v4 import new_markdown_cell

    from mflab import _checks

    max_lines = _checks.count("max_lines", max_lines, minimum=1)
    cells, added = [], 0
    for cell in nb.cells:
        cells.append(cell)
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if cell.cell_type != "code" or kind in ("skip", "notes") or "solution" in cell.metadata.get("tags", []):
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mflab.course.slides", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", default="slides", help="output folder (default: slides)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks given and none in notebooks/", file=sys.stderr)
        return 1
    for b in build(notebooks, args.out):
        minutes = f"{b['minutes']} minutes" if b["minutes"] else "no time stated in its first cell"
        print(f"{b['deck']}: {len(b['slides'])} slides, {minutes}")
    print(Path(args.out) / "index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
