"""The course tooling (mflab.course) without a browser: how a lesson becomes slides, the answer
format of the key, the minutes on the deck index, and the library's independence from it."""
import ast
import base64
import json
import re
from pathlib import Path

import pytest

from mflab.course import answers, deck, lesson, slides

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def md(source, tags=(), slide=None):
    cell = {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": source}
    if slide:
        cell["metadata"]["slideshow"] = {"slide_type": slide}
    return cell


def code(source, outputs=(), tags=()):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source,
            "outputs": list(outputs), "execution_count": 1}


def figure():
    return {"output_type": "display_data", "data": {"image/png": PNG, "text/plain": "<Figure>"}, "metadata": {}}


def printed(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


LESSON = {"cells": [
    md("# Lesson 07 · A small lesson\n\n[Contents](../README.md)\n\nWhat it is about, in prose.\n\n"
       "**Time** about 35 minutes, plus the exercises."),
    md("Speaker notes: 1 minute. Open with the question.", slide="notes"),
    code("import numpy as np"),
    md("## 1. The model\n\nThe prose that introduces the model.\n\n$$\\hat r_{ui} = \\mu + b_u$$\n\n"
       "The prose after the formula."),
    code("fig = draw()\nplt.show()", [figure()]),
    md("Reading the figure: the curve falls."),
    code("print(rmse)", [printed("rmse 0.9123\n")]),
    code("for n in range(40):\n    print(n)", [printed("".join(f"line {n}\n" for n in range(40)))]),
    md("**Check:** why does it fall?"),
    md(answers.as_details("Because the error shrinks."), ["solution"]),
    md("Speaker notes: section 1, 12 minutes. Ask the check before the figure.", slide="notes"),
    md("## Takeaways\n\n- The model is a sum: each part is learned.\n- Figures fall; then they flatten."),
    md("## Exercises\n\n### Exercise 1: redo it\n\nRedo it with $k = 3$:\n\n$$k = 3$$"),
    md("**Solution**", ["solution"]),
    code("secret_solution()", [figure()], ["solution"]),
    md("Instructor only: the room says 41.", ["instructor"]),
]}


def test_a_lesson_becomes_slides_of_one_thing_each_with_the_prose_in_the_notes():
    s = deck.lesson_slides(LESSON, "07_small")
    assert [x.kind for x in s] == ["title", "list", "formula", "figure", "output", "check", "list", "list"]
    title, outline, model, fig, out, check, takeaways, exercises = s
    assert (title.label, title.title) == ("Lesson 07", "A small lesson") and "35 minutes" in title.body
    assert title.notes[0].startswith("Speaker notes: 1 minute") and "in prose" in title.notes[1]
    assert "Contents" not in " ".join(title.notes)  # a line of links says nothing to the speaker
    assert "The model" in outline.body and "Exercises" in outline.body
    # the section's speaker notes sit on its first slide, before the slides they are about
    assert model.notes[0].startswith("Speaker notes: section 1, 12 minutes")
    assert "introduces the model" in model.notes[1] and model.formulas == 1 and "\\hat r_{ui}" in model.body
    assert model.notes[-1] == "The prose after the formula."  # read while the formula is on screen
    assert fig.images == 1 and fig.title == "1. The model" and fig.notes == ["Reading the figure: the curve falls."]
    assert "rmse 0.9123" in out.body and "print(rmse)" in out.body  # one short line of code, with its output
    assert "line 39" not in json.dumps([x.body for x in s])  # a 40-line printout stays in the notebook
    assert "why does it fall?" in check.body and any("Because the error shrinks." in n for n in check.notes)
    assert "<li>The model is a sum</li>" in takeaways.body and "<li>Figures fall</li>" in takeaways.body
    assert "Exercise 1: redo it" in exercises.body and any("$k = 3$" in n for n in exercises.notes)
    everything = json.dumps([x.__dict__ for x in s])
    assert "secret_solution" not in everything and "41" not in everything and "Solution" not in everything
    assert all(deck.slide_words(x) <= deck.WORD_LIMIT for x in s)
    for x in s:  # prose is in the notes, not on the slides
        assert "prose" not in x.body and "Reading the figure" not in x.body


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_lesson_deck_keeps_to_the_word_limit_and_leaves_out_the_answers(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    s = deck.lesson_slides(nb, path.stem)
    assert s[0].kind == "title" and all(deck.slide_words(x) <= deck.WORD_LIMIT for x in s)
    bodies = " ".join(x.body + x.title for x in s)
    for n in answers.check_answers(nb["cells"]):
        assert answers.answer_body(answers.cell_text(nb["cells"][n]))[:40] not in bodies
    speaker = [n for x in s for n in x.notes if n.startswith("Speaker notes")]
    assert len(speaker) == sum(answers.cell_text(c).startswith("Speaker notes") for c in nb["cells"])
    for x in s:  # a section's speaker notes open the notes of its first slide, before its prose
        flags = [n.startswith("Speaker notes") for n in x.notes]
        assert flags == sorted(flags, reverse=True), x.title


def test_words_counts_a_formula_as_one_and_ignores_markup():
    assert deck.words("<p>A <b>bold</b> claim, $x^2 + y^2$ and $$\\sum_i a_i$$ · 1.5</p>") == 7
    assert deck.words("") == 0


def test_the_index_gives_each_lesson_the_minutes_it_states(tmp_path):
    built = slides.build(NOTEBOOKS, tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr><td><a href="([^"]+)">.*?</a></td><td class="n">(\d+)</td>', index)
    stated = {f"{p.stem}.slides.html": lesson.stated_minutes(json.loads(p.read_text(encoding="utf-8")))
              for p in NOTEBOOKS}
    assert {name: int(m) for name, m in rows} == stated and None not in stated.values()
    assert f'<th class="n">{sum(stated.values())}</th>' in index
    assert [Path(b["deck"]).name for b in built] == sorted(stated)
    assert (tmp_path / "_assets" / "mathjax" / "tex-svg-full.js").stat().st_size > 1_000_000


def test_stated_minutes_reads_the_forms_the_lessons_use():
    def first(text):
        return {"cells": [md(text)]}
    assert lesson.stated_minutes(first("**Time** about 30 minutes, plus the exercises.")) == 30
    assert lesson.stated_minutes(first("**Time:** about 45 minutes. **Runs** in a minute.")) == 45
    assert lesson.stated_minutes(first("No time here.")) is None


def test_build_and_split_refuse_what_they_cannot_use(tmp_path):
    import nbformat

    with pytest.raises(ValueError, match="notebooks is empty"):
        slides.build([], tmp_path)
    with pytest.raises(FileNotFoundError, match="not a notebook"):
        slides.build([tmp_path / "x.txt"], tmp_path)
    nb = nbformat.v4.new_notebook()
    with pytest.raises(ValueError, match="max_lines must be an integer >= 1; got 0"):
        slides.split_long_listings(nb, max_lines=0)
    with pytest.raises(TypeError, match="max_lines must be an integer"):
        slides.split_long_listings(nb, max_lines=2.5)
    with pytest.raises(TypeError, match="max_lines"):
        slides.split_long_listings(nb, max_lines=True)
    with pytest.raises(ValueError, match="cells"):
        deck.lesson_slides({"cells": None})


def test_split_long_listings_cuts_a_listing_into_parts_that_fit():
    import nbformat

    source = "def f(x):\n" + "\n".join(f"    y{n} = x + {n}" + ("\n" if n % 5 == 4 else "") for n in range(30))
    cell = nbformat.v4.new_code_cell("mflab.show(f)", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/markdown": f"```python\n{source}\n```"}, execution_count=1)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    added = slides.split_long_listings(nb, max_lines=10)
    parts = [cell.outputs[0].data["text/markdown"]] + [c.source for c in nb.cells[1:]]
    assert added == len(parts) - 1 >= 3
    shown = [line for p in parts for line in p.split("```")[1].split("\n")[1:] if line.strip()]
    assert shown == [line for line in source.split("\n") if line.strip()]  # every line, once, in order
    assert all(len(p.split("```")[1].strip().split("\n")) <= 11 for p in parts)


def test_converting_answers_changes_only_their_text_and_is_idempotent():
    nb = {"cells": [md("**Check:** rank?"), md("**Answer.** 5. Every column is a mix.", ["solution"]),
                    code("x = 1", [printed("1\n")])]}
    other = json.dumps(nb["cells"][2])
    assert answers.convert(nb) == 1 and answers.convert(nb) == 0
    text = answers.cell_text(nb["cells"][1])
    assert text == "<details><summary>Answer</summary>\n\n5\\. Every column is a mix.\n\n</details>"
    assert answers.is_details(text) and nb["cells"][1]["metadata"]["tags"] == ["solution"]
    assert json.dumps(nb["cells"][2]) == other and answers.format_problems(nb["cells"]) == []
    with pytest.raises(ValueError, match="empty"):
        answers.as_details("**Answer.**")


def test_the_library_never_imports_the_course_tooling():
    offenders = []
    for path in (ROOT / "mflab").rglob("*.py"):
        if "course" in path.relative_to(ROOT / "mflab").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module or ''}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else []
            if any("course" in n.split(".") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}: {names}")
    assert not offenders
    assert not (ROOT / "mflab" / "slides.py").exists() and not (ROOT / "mflab" / "student.py").exists()
