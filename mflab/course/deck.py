"""A lesson as lecture slides, derived from its cells' content (no hand-made slide layout needed).

Each slide shows a title and at most one thing the room looks at: a displayed formula, a figure, a
small table or printout (with its code when that is one short line), a concept-check question or a
short list. Everything else a lesson says goes to the speaker notes of the slide shown while it is
said, which comes *before* what it introduces:

- the title slide (lesson number, title, the time the lesson states) and an outline (its sections);
- each ``##`` heading starts a section slide, whose notes open with the section's own "Speaker
  notes" cell (the lesson puts it at the end of the section; the speaker needs it at the start)
  followed by the section's first paragraph; a ``###`` heading starts a slide of its own;
- a ``$$...$$`` formula in the prose becomes the section slide's formula or a slide of its own; the
  prose around it goes to the notes of the slide on screen when it is read;
- a code cell gives a slide per figure (the figure fills the slide under the title), per SymPy
  formula, per table or printout short enough to read from the back of a room (a longer one is left
  to the notebook); a source listing (``mflab.show``) goes to the notes;
- a ``**Check:**`` cell is a question slide for the room; its answer is in the notes;
- "Takeaways" shows the first clause of each point; "Exercises" lists the exercises.

Cells tagged ``solution`` or ``instructor`` and cells whose slide type is ``skip`` never reach a
deck. No slide holds more than :data:`WORD_LIMIT` visible words (a formula counts as one).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from . import answers as _answers
from . import lesson as _lesson
from .answers import cell_text, tagged
from .lesson import is_speaker_notes
from .markup import DISPLAY, first_clause, formula_html, inline_html, latex_output, markdown_html, words  # noqa: F401

WORD_LIMIT = 60
MAX_OUTPUT_LINES = 12   # a printout taller than this is left to the notebook
MAX_OUTPUT_CHARS = 90   # ... and one wider than this (the slide's monospace font holds about 95)
MAX_CODE_CHARS = 60     # the one line of code a slide may show above its output
HIDE_CODE_TAG = "slides-hide-code"
EXCLUDED_TAGS = ("solution", "instructor")

_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*$", re.M)
_LINKS_ONLY = re.compile(r"(?:\s*(?:\[[^\]]*\]\([^)]*\)|[·|→←]|Lesson \d+ is the last lesson)\s*)+")


@dataclass
class Slide:
    """One slide: ``title`` (markdown, one line), ``body`` (HTML of what the slide shows),
    ``notes`` (markdown pieces for the speaker view), counts of formulas and images in ``body``."""
    kind: str
    title: str
    body: str = ""
    notes: list = field(default_factory=list)
    label: str = ""
    formulas: int = 0
    images: int = 0


def slide_words(slide: Slide) -> int:
    return words(slide.label) + words(slide.title) + words(slide.body)


class _Builder:
    def __init__(self, nb: dict, name: str):
        self.nb, self.name = nb, name
        self.slides: list[Slide] = []
        self.section = ""           # the title visuals are shown under
        self.exercises: Slide | None = None
        self.takeaways = False
        self.sections: list[str] = []

    # -- slides and notes ------------------------------------------------------------------------
    def new(self, kind, title=None, body="", **kw) -> Slide:
        slide = Slide(kind, self.section if title is None else title, body, **kw)
        self.slides.append(slide)
        return slide

    def note(self, text: str) -> None:
        # a line of links only (contents, previous, next) says nothing to the speaker
        lines = [line for line in text.split("\n") if not _LINKS_ONLY.fullmatch(line)]
        text = "\n".join(lines).strip()
        if text and self.slides:
            self.slides[-1].notes.append(text)

    def fits(self, title: str, body: str) -> bool:
        return words(title) + words(body) <= WORD_LIMIT

    # -- cells -----------------------------------------------------------------------------------
    def title_cell(self, text: str, notes: list[str]) -> None:
        m = _HEADING.search(text)
        full = m.group(2) if m else self.name
        number = re.match(r"Lesson\s+(\d+)", full)
        minutes = _lesson.stated_minutes(self.nb)
        slide = self.new("title", _lesson.short_title(self.nb, self.name),
                         f'<p class="mf-time">about {minutes} minutes</p>' if minutes else "",
                         label=f"Lesson {number.group(1)}" if number else "")
        slide.notes += notes
        self.note(text[m.end():] if m else text)

    def markdown(self, text: str, section_notes: list[str]) -> None:
        pos, headings = 0, list(_HEADING.finditer(text))
        for n, m in enumerate(headings):
            self.prose(text[pos:m.start()])
            # "## Part A\n\n### 1. First section": the section's notes go to its first slide
            self.heading(len(m.group(1)), m.group(2), section_notes if n == len(headings) - 1 else [])
            pos = m.end()
        self.prose(text[pos:])

    def heading(self, level: int, title: str, section_notes: list[str]) -> None:
        if level <= 2:
            self.section = title
            self.sections.append(title)
            self.exercises = None
            self.takeaways = title.lower().startswith("takeaway")
            kind = "list" if title.lower().startswith("exercise") else "section"
            slide = self.new(kind, title)
            slide.notes += section_notes
            if kind == "list":
                self.exercises = slide
        elif self.exercises is not None:
            items = self.exercises.body.removeprefix("<ul>").removesuffix("</ul>")
            self.exercises.body = f"<ul>{items}<li>{inline_html(title)}</li></ul>"
            self.exercises.notes += section_notes + [f"**{title}**"]
        else:
            self.section = title
            self.new("section", title).notes += section_notes
            if re.match(r"\d+\.\s", title):  # a numbered section under a part ("## Part A", "### 1. ...")
                self.sections.append(title)

    def prose(self, text: str) -> None:
        if not text.strip():
            return
        if self.takeaways and self.slides[-1].kind == "section" and not self.slides[-1].body:
            points = [first_clause(" ".join(m.group(1).split()))
                      for m in re.finditer(r"^[-*]\s+(.+?)(?=\n[-*]\s|\n\s*\n|\Z)", text.strip(), flags=re.M | re.S)]
            body = "<ul>" + "".join(f"<li>{inline_html(p)}</li>" for p in points) + "</ul>"
            if points and self.fits(self.section, body):
                self.slides[-1].body, self.slides[-1].kind = body, "list"
        if self.exercises is not None:  # an exercise's text, formulas included, is for the notes
            self.note(text)
            return
        pos = 0
        for m in DISPLAY.finditer(text):
            self.note(text[pos:m.start()])
            tex = next(g for g in m.groups()[:3] if g is not None)
            current = self.slides[-1]
            if current.kind == "section" and not current.body:
                current.body, current.formulas, current.kind = formula_html(tex), 1, "formula"
            else:
                self.new("formula", body=formula_html(tex), formulas=1)
            pos = m.end()
        self.note(text[pos:])

    def check(self, text: str, answer: str | None) -> None:
        question = text.strip()[len(_answers.CHECK_PREFIX):].strip()
        body = f'<div class="mf-question">{markdown_html(question)}</div>'
        if not self.fits("Check", body):
            first = re.split(r"(?<=[?.])\s", question, maxsplit=1)[0]
            body = f'<div class="mf-question">{markdown_html(first)}</div>' if self.fits("Check", first) else ""
        slide = self.new("check", "Check", body)
        slide.notes.append(question)
        if answer:
            slide.notes.append("**Answer.** " + _answers.answer_body(answer))

    def code(self, cell: dict) -> None:
        source = cell_text(cell).strip()
        line = source if ("\n" not in source and len(source) <= MAX_CODE_CHARS and not tagged(cell, HIDE_CODE_TAG)
                          and not source.startswith("mflab.show")) else ""
        if self.exercises is not None:  # the exercises' cells are the student's to run
            return
        code_html = f'<pre class="mf-code"><code>{html.escape(line)}</code></pre>' if line else ""
        for body, formulas, images, kind in self.visuals(cell):
            if not self.fits(self.section, code_html + body):
                continue
            self.new(kind, body=code_html + body, formulas=formulas, images=images)
            code_html = ""

    def visuals(self, cell: dict):
        """(html, formulas, images, kind) for each output a slide can show, in order."""
        stream = []
        for out in cell.get("outputs", []) + [None]:
            if out is not None and out.get("output_type") == "stream" and out.get("name") == "stdout":
                stream.append(cell_text({"source": out.get("text", "")}))
                continue
            if stream:
                yield from self.printout("".join(stream))
                stream = []
            if out is None:
                break
            data = out.get("data", {})
            if "image/png" in data:
                src = "data:image/png;base64," + "".join(data["image/png"]).replace("\n", "")
                yield f'<div class="mf-figure"><img src="{src}" alt="figure"></div>', 0, 1, "figure"
            elif "text/latex" in data:
                yield formula_html(latex_output(cell_text({"source": data["text/latex"]}))), 1, 0, "formula"
            elif "text/html" in data and "<table" in cell_text({"source": data["text/html"]}):
                table = re.search(r"<table.*?</table>", cell_text({"source": data["text/html"]}), flags=re.S)
                yield f'<div class="mf-table">{table.group(0)}</div>', 0, 0, "table"
            elif "text/markdown" in data and "```" in cell_text({"source": data["text/markdown"]}):
                self.note(cell_text({"source": data["text/markdown"]}))  # a source listing: notes
            elif set(data) == {"text/plain"} and out.get("output_type") == "execute_result":
                yield from self.printout(cell_text({"source": data["text/plain"]}))

    def printout(self, text: str):
        lines = text.rstrip("\n").split("\n")
        width = max(len(x.expandtabs()) for x in lines)
        if len(lines) <= MAX_OUTPUT_LINES and width <= MAX_OUTPUT_CHARS:
            # as large as the slide's width allows (a monospace character is 0.6 em wide), 18-32 px
            size = max(18, min(32, int(1180 / (0.61 * max(width, 1)))))
            yield (f'<pre class="mf-output" style="font-size: {size}px">{html.escape(chr(10).join(lines))}</pre>',
                   0, 0, "output")


def _section_notes(cells: list[dict]) -> dict[int, list[str]]:
    """Speaker-notes cells by the index of the cell that opens their section (a cell starting with
    a heading of level 1 to 3, or the first cell)."""
    notes, start = {}, 0
    for n, cell in enumerate(cells):
        text = cell_text(cell).lstrip()
        if cell.get("cell_type") == "markdown" and re.match(r"#{1,3}\s", text) and not is_speaker_notes(cell):
            start = n
        elif is_speaker_notes(cell):
            notes.setdefault(start, []).append(text)
    return notes


def _split_lists(slides: list[Slide]) -> list[Slide]:
    """A list too long for one slide continues on the next ("..., continued"); the notes stay with
    the first part."""
    out = []
    for slide in slides:
        items = re.findall(r"<li>.*?</li>", slide.body, flags=re.S)
        if slide.kind != "list" or slide_words(slide) <= WORD_LIMIT or len(items) < 2:
            out.append(slide)
            continue
        parts = [Slide("list", slide.title, "", slide.notes, slide.label)]
        for item in items:
            current = parts[-1]
            trial = Slide("list", current.title, "<ul>" + "".join(re.findall(r"<li>.*?</li>", current.body, flags=re.S)
                                                                  + [item]) + "</ul>", label=current.label)
            if current.body and slide_words(trial) > WORD_LIMIT:
                parts.append(Slide("list", f"{slide.title}, continued", f"<ul>{item}</ul>"))
            else:
                current.body = trial.body
        out += parts
    return out


def lesson_slides(nb: dict, name: str = "lesson") -> list[Slide]:
    """The slides of the lesson dict ``nb`` (``name``: its file stem, a fallback title)."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ValueError("nb must be a notebook dict with a 'cells' list")
    section_notes = _section_notes(cells)
    b = _Builder(nb, name)
    answers = {n - 1: cell_text(cells[n]) for n in _answers.check_answers(cells)}
    for n, cell in enumerate(cells):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if kind == "skip" or any(tagged(cell, t) for t in EXCLUDED_TAGS) or is_speaker_notes(cell):
            continue
        text = cell_text(cell)
        if cell.get("cell_type") == "code":
            if b.slides:
                b.code(cell)
        elif cell.get("cell_type") != "markdown":
            continue
        elif not b.slides:
            b.title_cell(text, section_notes.get(n, []))
        elif _answers.is_check(cell):
            b.check(text, answers.get(n))
        else:
            b.markdown(text, section_notes.get(n, []))
    if not b.slides:
        return []
    outline = "<ul>" + "".join(f"<li>{inline_html(s)}</li>" for s in b.sections) + "</ul>"
    if b.sections:
        b.slides.insert(1, Slide("list", "In this lesson", outline))
    return _split_lists(b.slides)
