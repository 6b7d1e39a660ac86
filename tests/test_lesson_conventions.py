"""Every lesson follows the series' conventions (GUIDE.md, README's notation table).

Slide metadata on every cell; headings start slides; speaker notes with timings; solutions and
concept-check answers tagged, collapsed and skipped on slides; at least two concept checks; the
notation link and the figure style; navigation links in the first and last cell; stored executed
in order, without errors or machine paths; and no word pointing at a document outside the
repository (the course's sources are described in INSTRUCTORS.md, never in a lesson).
"""
import json
import re
from pathlib import Path

import pytest

from mflab.course import answers

SERIES = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(SERIES.glob("*.ipynb"))
OUTSIDE = re.compile(r"\bthe material\b|\bmaterial\s*\d|\bmaterial's\b|\bthe slides?\b|\bslides'|"
                     r"\bcourse notebook\b|\bspecification\b|\bthe original (?:course|notebook|slides?)\b", re.I)
KINDS = {"slide", "subslide", "fragment", "skip", "notes", "-"}


def cells_of(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_stands_alone_and_follows_the_conventions(path):
    cells = cells_of(path)
    number = path.stem[:2]
    first, last = text(cells[0]), text(cells[-1])
    assert first.startswith(f"# Lesson {number} · ")
    assert "../README.md#notation" in first and "[Contents](../README.md)" in first
    assert "minute" in first, "the first cell says how long the lesson takes"
    assert "[Contents](../README.md)" in last
    for c in cells:
        t = text(c)
        assert c["metadata"].get("slideshow", {}).get("slide_type") in KINDS, t[:60]
        found = OUTSIDE.findall(t)
        assert not found, f"{t[:60]!r} points outside the repository: {found}"
        if t.startswith("## "):
            assert c["metadata"]["slideshow"]["slide_type"] == "slide", t[:40]
        if t.startswith("Speaker notes:"):
            assert c["metadata"]["slideshow"]["slide_type"] == "notes" and "minute" in t
        if "solution" in tags(c):
            # no source_hidden required: JupyterLab's Run All expands collapsed cells and a save drops
            # the flag, so nothing a student or instructor does in JupyterLab may turn this red
            assert c["metadata"]["slideshow"]["slide_type"] == "skip", t[:60]
        for link in re.findall(r"\]\((\.\./[^)]*)\)", t):
            # the student views serve README.md beside the lessons (contents and notation) and nothing else above them
            assert link in ("../README.md", "../README.md#notation"), f"{link} is out of reach in the workspace"
        if re.match(r"\*\*(Solution|Answer)", t):
            assert "solution" in tags(c), t[:40]
    assert any(text(c).startswith("Speaker notes:") for c in cells)
    checks = [j for j, c in enumerate(cells) if text(c).startswith("**Check:**")]
    assert len(checks) >= 2, "at least two concept checks"
    for j in checks:
        assert "solution" in tags(cells[j + 1]), f"the answer to {text(cells[j])[:50]!r} is not hidden"
    problems = answers.format_problems(cells)
    assert not problems, "concept-check answers must be closed <details> blocks (python -m mflab.course.answers " \
        f"{path.relative_to(SERIES.parent)} converts them):\n" + "\n".join(problems)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "plots.style()" in text(code[0])
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "stored executed, top to bottom"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", text(c)[:60]
            assert not re.search(r"/(work|tmp|root|home)/[A-Za-z]", json.dumps(out)), text(c)[:60]
            if out["output_type"] == "execute_result":
                assert "Line2D at 0x" not in "".join(out["data"].get("text/plain", ""))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_answer_format_survives_run_all_and_save_in_jupyterlab(path):
    """What a save after "Run All" writes (collapsed cells expanded, source as one string) keeps
    every concept-check answer closed: the format is the cells' content, not their metadata."""
    cells = cells_of(path)
    for c in cells:
        c["metadata"].pop("jupyter", None)
        c["source"] = text(c)
    assert answers.check_answers(cells) and answers.format_problems(cells) == []


def test_answer_format_check_is_not_blind():
    check = {"cell_type": "markdown", "metadata": {}, "source": "**Check:** why?"}

    def answer(source):
        return {"cell_type": "markdown", "metadata": {"tags": ["solution"]}, "source": source}

    assert answers.format_problems([check, answer(answers.as_details("Because."))]) == []
    for bad in ("**Answer.** Because.", "<details open><summary>Answer</summary>\n\nBecause.\n\n</details>",
                "<details><summary>Answer: because</summary></details>"):
        assert answers.format_problems([check, answer(bad)]), bad
    assert answers.format_problems([check, {"cell_type": "markdown", "metadata": {}, "source": "Because."}])
