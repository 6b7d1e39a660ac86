"""Student copies (`make student`, mflab/student.py) give no answer away and keep every exercise
workable; the lessons themselves (the answer key) keep their solutions tagged and collapsed."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mflab import student

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Lines of solution code too common to give anything away.
TRIVIAL_LINE = re.compile(r"^(#.*|import .*|from \S+ import .*|plt\.show\(\)|print\(\)|\S{0,11}|[\])}]+[,;]?)$")
MIN_SENTENCE_WORDS = 6


def text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tagged(cell) -> bool:
    return "solution" in cell.get("metadata", {}).get("tags", [])


def normal(s: str) -> str:
    return " ".join(s.split())


def sentences(markdown: str):
    """The sentences of a cell's prose, whitespace normalised; short ones (headers) left out."""
    for part in re.split(r"(?<=[.!?:])\s+|\n\s*\n", markdown):
        part = normal(part)
        if len(part.split()) >= MIN_SENTENCE_WORDS:
            yield part


def problems(main: dict, copy: dict) -> list[str]:
    """What the copy gives away or lost, compared with the lesson (the answer key) it came from."""
    found = []
    open_cells = [c for c in main["cells"] if not tagged(c)]
    open_text = normal("\n".join(text(c) for c in open_cells))
    open_lines = {line.strip() for c in open_cells for line in text(c).splitlines()}
    copy_text = normal("\n".join(text(c) for c in copy["cells"]))
    copy_lines = {line.strip() for c in copy["cells"] for line in text(c).splitlines()}
    for n, cell in enumerate(copy["cells"]):
        if tagged(cell):
            found.append(f"cell {n} is tagged solution: {text(cell)[:60]!r}")
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            found.append(f"cell {n} keeps its outputs or execution count")
    if "**Solution**" in copy_text:
        found.append("a '**Solution**' header is left")
    for cell in filter(tagged, main["cells"]):
        if cell["cell_type"] == "markdown":
            for s in sentences(text(cell)):
                if s not in open_text and s in copy_text:
                    found.append(f"solution prose left: {s[:70]!r}")
        else:
            for line in map(str.strip, text(cell).splitlines()):
                if (not TRIVIAL_LINE.match(line) and line not in open_lines and not student.check_calls(line)
                        and line in copy_lines):
                    found.append(f"solution code left: {line[:70]!r}")
    copy_calls = {call for c in copy["cells"] if c["cell_type"] == "code" and not tagged(c)
                  for call in student.check_calls(text(c))}
    for cell in main["cells"]:
        for call in student.check_calls(text(cell)) if cell["cell_type"] == "code" else []:
            if call not in copy_calls:
                found.append(f"the exercise check {call!r} was lost")
    runs = sum(1 for a, b in zip([None] + main["cells"], main["cells"]) if tagged(b) and not (a and tagged(a)))
    answers = sum(1 for c in copy["cells"] if student.ANSWER_TAG in c["metadata"].get("tags", []))
    if answers < runs:
        found.append(f"{runs} runs of solution cells but only {answers} answer cells")
    return found


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    """`make student` itself, into a temporary folder, with this interpreter (setup not re-run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    out = tmp_path_factory.mktemp("student")
    done = subprocess.run([make, "-s", "-C", str(ROOT), "-o", ".venv/.installed", "-o", "setup", "student",
                           f"STUDENT_DIR={out}", f"BIN={Path(sys.executable).parent}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote {len(NOTEBOOKS)} student notebooks" in done.stdout
    return out


@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_make_student_gives_no_answer_away_and_keeps_the_checks(student_dir, lesson):
    main = json.loads(lesson.read_text(encoding="utf-8"))
    copy = json.loads((student_dir / lesson.name).read_text(encoding="utf-8"))
    found = problems(main, copy)
    assert not found, f"{lesson.name}: " + "; ".join(found[:8])
    assert "widgets" not in copy["metadata"]
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(json.dumps(copy), as_version=4))


@pytest.mark.parametrize("lesson", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_detector_is_not_blind(lesson):
    """problems() on the unstripped lesson finds its solutions, so a clean copy means something."""
    main = json.loads(lesson.read_text(encoding="utf-8"))
    if any(map(tagged, main["cells"])):
        assert problems(main, main)


def test_strip_replaces_each_run_and_keeps_a_check_from_inside_a_solution(tmp_path):
    def cell(kind, source, tags=()):
        c = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
        if kind == "code":
            c.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "42"}], execution_count=3)
        return c

    nb = {"cells": [
        cell("markdown", "# Lesson"),
        cell("markdown", "**Check:** why?"),
        cell("markdown", "Because the answer is forty-two, as the whole book says.", ["solution"]),
        cell("markdown", "**Exercise 1.** Write my_rmse."),
        cell("markdown", "**Solution** (expand the hidden cell below)", ["solution"]),
        cell("code", "def my_rmse(a, b):\n    return secret_formula(a, b)\nchecks.rmse(my_rmse)", ["solution"]),
        cell("code", "x = 1"),
    ], "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "01_x.ipynb").write_text(json.dumps(nb))
    [written] = student.main(str(tmp_path / "src"), str(tmp_path / "out"))
    out = json.loads(written.read_text())
    sources = [text(c) for c in out["cells"]]
    assert sources[0] == "# Lesson" and sources[1] == student.NOTICE
    assert sources[2:] == ["**Check:** why?", student.PROSE_PLACEHOLDER, "**Exercise 1.** Write my_rmse.",
                           student.CODE_PLACEHOLDER, "from mflab import checks\n\nchecks.rmse(my_rmse)\n", "x = 1"]
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in out["cells"] if c["cell_type"] == "code")
    assert "secret_formula" not in written.read_text() and "forty-two" not in written.read_text()
    assert "widgets" not in out["metadata"]
    assert problems(nb, out) == []


def test_every_lesson_tags_and_collapses_its_solutions():
    """The answer key: every solution cell tagged and collapsed; every concept check and every
    '**Solution**' header followed or marked accordingly."""
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        solutions = [c for c in cells if tagged(c)]
        assert solutions, f"{path.name} has no solution cells tagged 'solution'"
        for c in solutions:
            assert c["metadata"].get("jupyter", {}).get("source_hidden"), \
                f"{path.name}: a solution cell is not collapsed: {text(c)[:60]!r}"
        for n, c in enumerate(cells):
            if c["cell_type"] == "markdown" and text(c).lstrip().startswith("**Solution**"):
                assert tagged(c), f"{path.name} cell {n}: a '**Solution**' header is not tagged"
            if c["cell_type"] == "markdown" and "**Check:**" in text(c) and not tagged(c):
                assert n + 1 < len(cells) and tagged(cells[n + 1]), \
                    f"{path.name} cell {n}: a concept check whose answer is not in a tagged cell after it"
        checks = [n for n, c in enumerate(cells) if "**Check:**" in text(c) and not tagged(c)]
        assert len(checks) >= 2, f"{path.name} has {len(checks)} concept checks; the standard asks for two"
