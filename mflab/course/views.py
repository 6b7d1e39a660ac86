"""What students get from the lessons: the workspace (``make lab``) and hand-out copies (``make student``).

    python -m mflab.course.views workspace [SRC [DST]]   (make workspace: notebooks/ -> workspace/)
    python -m mflab.course.views student [SRC [DST]]     (make student:   notebooks/ -> student/)

Both come from :func:`student_view`, one lesson at a time:

- every cell tagged ``solution`` (exercise code, its prose, the "**Solution**" header) is removed,
  and each run of them becomes one "Your answer here" code cell (if the run held code) and one
  "Your answer:" markdown cell (if it held prose); an ``mflab.checks`` call inside a solution moves
  to a cell of its own, so the exercise still checks the student's function;
- speaker notes (a ``notes`` slide or a cell starting "Speaker notes") and cells tagged
  ``instructor`` are removed;
- a concept-check answer stays behind a click (``answers="click"``: the answer key's closed
  ``<details>`` block, which neither "Run All" nor a save can open) or is replaced by a "Your
  answer:" cell (``answers="absent"``);
- outputs, execution counts and stored widget state are cleared; the links to ``../README.md``
  (contents, notation table) point at a ``README.md`` written beside the lessons, which holds the
  lesson table and the repository README's notation section, so they work inside the served folder.

The workspace is the student's own: :func:`write_view` with ``overwrite=False`` creates it when
absent and adds the lessons it lacks, but never touches a lesson file that is there. Student copies
(``overwrite=True``) are rewritten on every run. Neither ever writes into ``notebooks/``.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from . import answers as _answers
from .answers import cell_text, tagged
from .lesson import is_speaker_notes

SOLUTION_TAG = "solution"
INSTRUCTOR_TAG = "instructor"
ANSWER_TAG = "answer"              # the "Your answer" placeholders
CHECK_ANSWER_TAG = "check-answer"  # a concept-check answer kept behind a click
ANSWER_MODES = ("click", "absent")
CODE_PLACEHOLDER = "# Your answer here: write your code in this cell, then run it.\n"
PROSE_PLACEHOLDER = "**Your answer:** *(double-click this cell and write it here)*"
NOTICE = ("*Your copy of the lesson: the exercise solutions and the instructor's notes are not in it. "
          "Write your answers in the cells marked \"Your answer\"; where an exercise ends with an "
          "`mflab.checks` call, run it to check your code.{click}*")
CLICK_NOTE = " A concept check's answer opens with a click on **Answer**, once you have thought about it."
_CHECK_CALL = re.compile(r"\bchecks\.\w+\(")
_HEADER = re.compile(r"^\s*\**\s*solution\b", re.IGNORECASE)
README_LINK = re.compile(r"\]\(\.\./README\.md")


def check_calls(source: str) -> list[str]:
    """The lines of ``source`` that call ``mflab.checks`` (``checks.sgd_step(my_step)``)."""
    return [line.strip() for line in source.splitlines() if _CHECK_CALL.search(line)]


def _is_header(cell: dict) -> bool:
    """A "**Solution** (expand the hidden cells below)" line: the run's title, not its prose."""
    text = cell_text(cell).strip()
    return cell["cell_type"] == "markdown" and bool(_HEADER.match(text)) and len(text) < 120


def _new_cell(kind: str, source: str, like: dict | None, suffix: str, tags=(ANSWER_TAG,)) -> dict:
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if like is not None and "id" in like:
        cell["id"] = like["id"][: 64 - len(suffix) - 1] + "-" + suffix
    return cell


def _replace_run(run: list[dict], following: list[dict]) -> list[dict]:
    """The placeholder cells for one run of consecutive solution cells."""
    code = [c for c in run if c["cell_type"] == "code"]
    prose = [c for c in run if c["cell_type"] == "markdown" and not _is_header(c)]
    out = []
    if code or not prose:
        out.append(_new_cell("code", CODE_PLACEHOLDER, run[0], "answer"))
    if prose:
        out.append(_new_cell("markdown", PROSE_PLACEHOLDER, run[0], "answer-text"))
    # A check call inside a solution stays for the student, unless the lesson already runs it next.
    already = {call for c in following if c["cell_type"] == "code" and not tagged(c)
               for call in check_calls(cell_text(c))}
    calls = [call for c in code for call in check_calls(cell_text(c)) if call not in already]
    if calls:
        out.insert(1, _new_cell("code", "from mflab import checks\n\n" + "\n".join(calls) + "\n",
                                run[0], "check", tags=()))
    return out


def _clean(cell: dict, readme: str | None) -> dict:
    cell = json.loads(json.dumps(cell))  # a deep copy: the lesson itself is never changed
    meta = cell.setdefault("metadata", {})
    meta.get("jupyter", {}).pop("source_hidden", None)  # nothing is hidden from a student by metadata
    if not meta.get("jupyter", True):
        meta.pop("jupyter")
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    elif readme is not None:
        cell["source"] = README_LINK.sub(f"]({readme}", cell_text(cell))
    return cell


def student_view(nb: dict, *, answers: str = "click", readme: str | None = "README.md") -> dict:
    """A student's copy of the lesson dict ``nb`` (see the module docstring); ``nb`` is not changed.

    ``answers``: ``"click"`` keeps each concept-check answer as a closed ``<details>`` block,
    ``"absent"`` replaces it by a "Your answer:" cell. ``readme``: where links to ``../README.md``
    point in the copy (``None`` leaves them)."""
    if answers not in ANSWER_MODES:
        raise ValueError(f"answers must be one of {ANSWER_MODES}; got {answers!r}")
    source_cells = nb.get("cells")
    if not isinstance(source_cells, list):
        raise ValueError("nb must be a notebook dict with a 'cells' list")
    check_answers = set(_answers.check_answers(source_cells)) if answers == "click" else set()
    cells, run = [], []
    for n, cell in enumerate(source_cells):
        if is_speaker_notes(cell) or tagged(cell, INSTRUCTOR_TAG):
            continue
        if tagged(cell, SOLUTION_TAG) and n not in check_answers:
            run.append(cell)
            continue
        if run:
            cells += _replace_run(run, source_cells[n:n + 2])
            run = []
        cell = _clean(cell, readme)
        if n in check_answers:
            cell["source"] = _answers.as_details(cell_text(cell))
            cell["metadata"]["tags"] = [CHECK_ANSWER_TAG]
        cells.append(cell)
    if run:
        cells += _replace_run(run, [])
    if cells:
        notice = NOTICE.format(click=CLICK_NOTE if check_answers else "")
        cells.insert(1, _new_cell("markdown", notice, cells[0], "student", tags=()))
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k != "widgets"}
    return dict(nb, cells=cells, metadata=metadata)


def lessons(src) -> list[Path]:
    """The lesson notebooks of the folder ``src`` (or the one notebook ``src``), in order."""
    src = Path(src)
    paths = [src] if src.suffix == ".ipynb" else sorted(src.glob("*.ipynb"))
    if not paths or not all(p.is_file() for p in paths):
        raise FileNotFoundError(f"no lesson notebooks (*.ipynb) in {src}")
    return paths


def write_view(src="notebooks", dst="workspace", *, overwrite: bool, answers: str = "click",
               readme_source=None) -> dict:
    """Write the student view of every lesson of ``src`` into ``dst``, and ``dst/README.md``.

    ``overwrite=False`` (the workspace) writes only the lessons ``dst`` lacks; ``True`` (student
    copies) rewrites them all. ``readme_source``: the repository README whose notation section the
    view's README carries (default: ``README.md`` beside ``src``). Returns ``{"written": [...],
    "kept": [...], "readme": path}``."""
    from .readme import write_readme

    paths = lessons(src)
    out = Path(dst)
    if out.resolve() in {p.parent.resolve() for p in paths}:
        raise ValueError(f"dst must not be the lessons' own folder ({out}): the answer key stays as it is")
    out.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for path in paths:
        target = out / path.name
        if target.exists() and not overwrite:
            kept.append(target)
            continue
        nb = student_view(json.loads(path.read_text(encoding="utf-8")), answers=answers)
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    readme_source = Path(readme_source) if readme_source else paths[0].parent.parent / "README.md"
    readme = write_readme(paths, out, readme_source, workspace=not overwrite)
    return {"written": written, "kept": kept, "readme": readme}


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mflab.course.views", description=__doc__.split("\n")[0])
    parser.add_argument("view", choices=["workspace", "student"])
    parser.add_argument("src", nargs="?", default="notebooks")
    parser.add_argument("dst", nargs="?", default=None, help="default: workspace/ or student/")
    parser.add_argument("--answers", choices=ANSWER_MODES, default=None,
                        help="concept-check answers behind a click or absent (default: click in the "
                             "workspace, absent in student copies)")
    args = parser.parse_args(argv)
    workspace = args.view == "workspace"
    dst = args.dst or args.view
    answers = args.answers or ("click" if workspace else "absent")
    done = write_view(args.src, dst, overwrite=not workspace, answers=answers)
    names = ", ".join(p.name for p in done["written"]) or "none"
    if workspace:
        print(f"workspace {dst}/: {len(done['written'])} lessons added ({names}), "
              f"{len(done['kept'])} already there and left as they are; {done['readme']}")
    else:
        print(f"wrote {len(done['written'])} student notebooks (solutions and speaker notes removed, "
              f"concept-check answers {'behind a click' if answers == 'click' else 'removed'}, outputs "
              f"cleared) to {dst}/: {names}; {done['readme']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
