"""What students get (mflab/course/views.py): the workspace (`make workspace`, `make lab`) and the
hand-out copies (`make student`) give no answer and no speaker note away, keep every exercise
workable, and their links work inside the folder; the answer key in notebooks/ is never touched."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mflab.course import answers, readme, views

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Lines of solution code too common to give anything away.
TRIVIAL_LINE = re.compile(r"^(#.*|import .*|from \S+ import .*|plt\.show\(\)|print\(\)|\S{0,11}|[\])}]+[,;]?)$")
MIN_SENTENCE_WORDS = 6
OUTSIDE_LINK = re.compile(r"\]\(\.\./[^)]*\)")


def text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tagged(cell, tag="solution") -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def normal(s: str) -> str:
    return " ".join(s.split())


def sentences(markdown: str):
    """The sentences of a cell's prose, whitespace normalised; short ones (headers) left out."""
    for part in re.split(r"(?<=[.!?:])\s+|\n\s*\n", markdown):
        part = normal(part)
        if len(part.split()) >= MIN_SENTENCE_WORDS:
            yield part


def problems(main: dict, copy: dict, mode: str) -> list[str]:
    """What the copy gives away or lost, compared with the lesson (the answer key) it came from.
    ``mode``: "absent" (no concept-check answer at all) or "click" (each inside a closed
    <details> block in the cell right after its check, and nowhere else)."""
    found = []
    check_answers = set(answers.check_answers(main["cells"]))
    secret = [c for n, c in enumerate(main["cells"]) if tagged(c) or views.is_speaker_notes(c)
              or tagged(c, views.INSTRUCTOR_TAG)]
    open_cells = [c for c in main["cells"] if not any(c is s for s in secret)]
    open_text = normal("\n".join(text(c) for c in open_cells))
    open_lines = {line.strip() for c in open_cells for line in text(c).splitlines()}
    behind_click = [c for c in copy["cells"] if tagged(c, views.CHECK_ANSWER_TAG)]
    shown = [c for c in copy["cells"] if not tagged(c, views.CHECK_ANSWER_TAG)]
    copy_text = normal("\n".join(text(c) for c in shown))
    copy_lines = {line.strip() for c in copy["cells"] for line in text(c).splitlines()}
    for n, cell in enumerate(copy["cells"]):
        if tagged(cell) or tagged(cell, views.INSTRUCTOR_TAG):
            found.append(f"cell {n} is tagged solution or instructor: {text(cell)[:60]!r}")
        if views.is_speaker_notes(cell):
            found.append(f"cell {n} is a speaker note: {text(cell)[:60]!r}")
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            found.append(f"cell {n} keeps its outputs or execution count")
        if "](../" in text(cell):
            found.append(f"cell {n} links outside the folder: {OUTSIDE_LINK.findall(text(cell))}")
    if "**Solution**" in copy_text:
        found.append("a '**Solution**' header is left")
    for n, cell in enumerate(main["cells"]):
        if not any(cell is s for s in secret):
            continue
        if cell["cell_type"] == "markdown":
            for s in sentences(answers.answer_body(text(cell))):
                if s not in open_text and s in copy_text:
                    found.append(f"solution or speaker-notes prose left: {s[:70]!r}")
        else:
            for line in map(str.strip, text(cell).splitlines()):
                if (not TRIVIAL_LINE.match(line) and line not in open_lines and not views.check_calls(line)
                        and line in copy_lines):
                    found.append(f"solution code left: {line[:70]!r}")
    expected_clicks = len(check_answers) if mode == "click" else 0
    if len(behind_click) != expected_clicks:
        found.append(f"{len(behind_click)} answers behind a click, expected {expected_clicks}")
    for cell in behind_click:
        if not answers.is_details(text(cell)) or "<details open" in text(cell):
            found.append(f"an answer not inside one closed <details> block: {text(cell)[:60]!r}")
    for n, cell in enumerate(copy["cells"][1:], 1):
        if tagged(cell, views.CHECK_ANSWER_TAG) and not answers.is_check(copy["cells"][n - 1]):
            found.append(f"cell {n}: an answer that does not follow its check")
    copy_calls = {call for c in copy["cells"] if c["cell_type"] == "code" and not tagged(c)
                  for call in views.check_calls(text(c))}
    for cell in main["cells"]:
        for call in views.check_calls(text(cell)) if cell["cell_type"] == "code" else []:
            if call not in copy_calls:
                found.append(f"the exercise check {call!r} was lost")
    copy_markdown = "\n".join(text(c) for c in copy["cells"] if c["cell_type"] == "markdown")
    copy_code = "\n".join(text(c) for c in copy["cells"] if c["cell_type"] == "code")
    for call in copy_calls:  # the function a kept check runs must be one the task asks the student for
        for name in re.findall(r"checks\.\w+\(\s*([A-Za-z_]\w*)", call):
            if not re.search(rf"\b{name}\b", copy_markdown) and not re.search(rf"def {name}\b|\b{name}\s*=", copy_code):
                found.append(f"{call!r} runs {name!r}, which the student's copy never asks for or defines")
    runs = sum(1 for n, c in enumerate(main["cells"]) if tagged(c) and (mode == "absent" or n not in check_answers)
               and not (n and tagged(main["cells"][n - 1]) and (mode == "absent" or n - 1 not in check_answers)))
    placeholders = sum(1 for c in copy["cells"] if tagged(c, views.ANSWER_TAG))
    if placeholders < runs:
        found.append(f"{runs} runs of solution cells but only {placeholders} answer cells")
    return found


def _make(target: str, **variables) -> subprocess.CompletedProcess:
    """A make target itself, with this interpreter (set-up not re-run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    args = [f"{k}={v}" for k, v in variables.items()] + [f"BIN={Path(sys.executable).parent}"]
    done = subprocess.run([make, "-s", "-C", str(ROOT), "-o", ".venv/.installed", "-o", "setup", target, *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    done = _make("student", STUDENT_DIR=out)
    assert f"wrote {len(NOTEBOOKS)} student notebooks" in done.stdout
    return out


@pytest.fixture(scope="module")
def workspace_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ws") / "workspace"
    done = _make("workspace", WORKSPACE_DIR=out)
    assert f"{len(NOTEBOOKS)} lessons added" in done.stdout
    return out


@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_make_student_and_make_workspace_give_nothing_away_and_keep_the_checks(student_dir, workspace_dir, lesson):
    main = json.loads(lesson.read_text(encoding="utf-8"))
    for folder, mode in ((student_dir, "absent"), (workspace_dir, "click")):
        copy = json.loads((folder / lesson.name).read_text(encoding="utf-8"))
        found = problems(main, copy, mode)
        assert not found, f"{folder.name}/{lesson.name}: " + "; ".join(found[:8])
        assert "widgets" not in copy["metadata"]
        nbformat = pytest.importorskip("nbformat")
        nbformat.validate(nbformat.reads(json.dumps(copy), as_version=4))
        if "../README.md#notation" in json.dumps(main):
            assert "](README.md#notation)" in json.dumps(copy)


@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_detector_is_not_blind(lesson):
    """problems() on the unstripped lesson finds its solutions and notes, so a clean copy means something."""
    main = json.loads(lesson.read_text(encoding="utf-8"))
    found = problems(main, main, "absent")
    if any(map(tagged, main["cells"])):
        assert any("tagged solution" in p for p in found)
    if any(map(views.is_speaker_notes, main["cells"])):
        assert any("speaker note" in p for p in found)


def test_both_readmes_list_the_lessons_and_carry_the_notation_table(student_dir, workspace_dir):
    notation = readme.notation_section((ROOT / "README.md").read_text(encoding="utf-8"))
    for folder in (student_dir, workspace_dir):
        text_ = (folder / "README.md").read_text(encoding="utf-8")
        assert text_.startswith(readme.MARKER)
        assert readme.ANCHOR + "\n\n" + notation in text_
        for lesson in NOTEBOOKS:
            assert f"]({lesson.name})" in text_
        assert "](../" not in text_ and "](notebooks/" not in text_


def test_the_workspace_adds_missing_lessons_and_never_overwrites_one(workspace_dir):
    first, second = workspace_dir / NOTEBOOKS[0].name, workspace_dir / NOTEBOOKS[-1].name
    first.write_text(first.read_text(encoding="utf-8").replace("Your answer", "My own answer"), encoding="utf-8")
    mine = first.read_text(encoding="utf-8")
    second.unlink()
    done = _make("workspace", WORKSPACE_DIR=workspace_dir)
    assert "1 lessons added" in done.stdout and f"{len(NOTEBOOKS) - 1} already there" in done.stdout
    assert first.read_text(encoding="utf-8") == mine and second.is_file()


def test_views_never_write_into_the_answer_key(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    shutil.copy(NOTEBOOKS[0], src)
    (tmp_path / "README.md").write_text("# x\n\n## Notation\n\n| a | b |\n")
    with pytest.raises(ValueError, match="dst must not be the lessons' own folder"):
        views.write_view(src, src, overwrite=True)
    with pytest.raises(ValueError, match="answers must be one of"):
        views.student_view(json.loads(NOTEBOOKS[0].read_text(encoding="utf-8")), answers="shown")


def _cell(kind, source, tags=(), slide=None):
    c = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
    if slide:
        c["metadata"]["slideshow"] = {"slide_type": slide}
    if kind == "code":
        c.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "42"}], execution_count=3)
    return c


def test_student_view_on_a_small_lesson():
    nb = {"cells": [
        _cell("markdown", "# Lesson\n\n[Contents](../README.md) · [notation](../README.md#notation)"),
        _cell("markdown", "Speaker notes: 2 minutes. The answer is forty-two, say it last.", slide="notes"),
        _cell("markdown", "**Check:** why?"),
        _cell("markdown", "**Answer.** Because the answer is forty-two, as the whole book says.", ["solution"]),
        _cell("markdown", "For the instructor only: the room tends to say 41.", ["instructor"]),
        _cell("markdown", "**Exercise 1.** Write my_rmse."),
        _cell("markdown", "**Solution** (expand the hidden cell below)", ["solution"]),
        _cell("code", "def my_rmse(a, b):\n    return secret_formula(a, b)\nchecks.rmse(my_rmse)", ["solution"]),
        _cell("code", "x = 1"),
    ], "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}
    before = json.dumps(nb)
    for mode in ("click", "absent"):
        out = views.student_view(nb, answers=mode)
        sources = [text(c) for c in out["cells"]]
        assert sources[0] == "# Lesson\n\n[Contents](README.md) · [notation](README.md#notation)"
        assert sources[1].startswith("*Your copy of the lesson")
        answer = (answers.as_details("Because the answer is forty-two, as the whole book says.")
                  if mode == "click" else views.PROSE_PLACEHOLDER)
        assert sources[2:] == ["**Check:** why?", answer, "**Exercise 1.** Write my_rmse.", views.CODE_PLACEHOLDER,
                               "from mflab import checks\n\nchecks.rmse(my_rmse)\n", "x = 1"]
        everything = json.dumps(out)
        assert "secret_formula" not in everything and "Speaker notes" not in everything and "41" not in everything
        assert ("forty-two" in everything) == (mode == "click")
        assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
                   for c in out["cells"] if c["cell_type"] == "code")
        assert "widgets" not in out["metadata"]
        assert problems(nb, out, mode) == []
    assert json.dumps(nb) == before, "the lesson itself was changed"


def test_a_kept_check_must_run_a_function_the_copy_asks_for():
    """A check call moved out of a solution must name a function the task text asks for (lesson 02
    once kept `checks.sgd_step(first_try)` while only the hidden solution defined `first_try`)."""
    main = {"cells": [_cell("markdown", "Write `my_step(p, q)`."),
                      _cell("code", "def first_try(p, q):\n    return p", tags=["solution"]),
                      _cell("code", "checks.sgd_step(first_try)")]}
    copy = {"cells": [_cell("markdown", "Write `my_step(p, q)`."), _cell("code", "checks.sgd_step(first_try)")]}
    assert any("never asks for" in p for p in problems(main, copy, "absent"))
    copy["cells"][0] = _cell("markdown", "Write `first_try(p, q)`.")
    assert not any("never asks for" in p for p in problems(main, copy, "absent"))
