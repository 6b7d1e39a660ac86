"""Write student copies of the lessons: every solution removed, outputs cleared.

    python -m mflab.student [SRC [DST]]        (``make student``: SRC notebooks/, DST student/)

The lessons in ``notebooks/`` are the answer key: every solution (code, prose, its "**Solution**"
header, and the answers to concept checks) sits in cells tagged ``solution``, collapsed but run by
nbval. A student copy drops those cells. Each run of consecutive solution cells becomes one
"your answer here" code cell (if the run held code) and one "Your answer:" markdown cell (if it held
prose beyond its header), so every exercise and check keeps a place for the student's answer.
An ``mflab.checks`` call stays: untagged check cells are kept as they are, and a check call found
inside a solution cell is moved into a cell of its own after the placeholder, so students still
get feedback. Outputs and execution counts are cleared, and stored widget state is dropped, so the
student runs the lesson themselves.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"
CODE_PLACEHOLDER = "# Your answer here: write your code in this cell, then run it.\n"
PROSE_PLACEHOLDER = "**Your answer:** *(double-click this cell and write it here)*"
NOTICE = ("*Student copy: the solutions are not in this notebook. Write your answers in the cells "
          "marked \"Your answer\"; where an exercise ends with an `mflab.checks` call, run it to "
          "check your code.*")
_CHECK_CALL = re.compile(r"\bchecks\.\w+\(")
_HEADER = re.compile(r"^\s*\**\s*solution\b", re.IGNORECASE)


def is_solution(cell: dict) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_header(cell: dict) -> bool:
    """A "**Solution** (expand the hidden cells below)" line: the run's title, not its prose."""
    text = _source(cell).strip()
    return cell["cell_type"] == "markdown" and bool(_HEADER.match(text)) and len(text) < 120


def check_calls(source: str) -> list[str]:
    """The lines of ``source`` that call ``mflab.checks`` (``checks.sgd_step(my_step)``)."""
    return [line.strip() for line in source.splitlines() if _CHECK_CALL.search(line)]


def _new_cell(kind: str, source: str, like: dict | None, suffix: str) -> dict:
    cell = {"cell_type": kind, "metadata": {"slideshow": {"slide_type": "skip"}, "tags": [ANSWER_TAG]},
            "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if like is not None and "id" in like:
        cell["id"] = (like["id"][: 64 - len(suffix) - 1] + "-" + suffix)
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
    already = {call for c in following if c["cell_type"] == "code" and not is_solution(c)
               for call in check_calls(_source(c))}
    calls = [call for c in code for call in check_calls(_source(c)) if call not in already]
    if calls:
        check = _new_cell("code", "from mflab import checks\n\n" + "\n".join(calls) + "\n", run[0], "check")
        check["metadata"]["tags"] = []
        out.insert(1, check)
    return out


def strip(nb: dict) -> dict:
    """A student copy of the notebook dict ``nb``: solutions replaced by placeholders, no outputs."""
    cells, run = [], []
    source_cells = nb["cells"]
    for n, cell in enumerate(source_cells):
        if is_solution(cell):
            run.append(cell)
            continue
        if run:
            cells += _replace_run(run, source_cells[n:n + 2])
            run = []
        cell = dict(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    if run:
        cells += _replace_run(run, [])
    if any(is_solution(c) for c in source_cells) and cells:
        notice = _new_cell("markdown", NOTICE, cells[0], "student")
        notice["metadata"]["tags"] = []
        cells.insert(1, notice)
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k != "widgets"}
    return dict(nb, cells=cells, metadata=metadata)


def main(src: str = "notebooks", dst: str = "student") -> list[Path]:
    """Write a student copy of every ``src/*.ipynb`` (or of the one notebook ``src``) into ``dst``."""
    src_path, out = Path(src), Path(dst)
    paths = [src_path] if src_path.suffix == ".ipynb" else sorted(src_path.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {src}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = strip(json.loads(path.read_text(encoding="utf-8")))
        target = out / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    paths = main(*sys.argv[1:3])
    print(f"wrote {len(paths)} student notebooks (solutions removed, outputs cleared) to "
          f"{paths[0].parent}/: " + ", ".join(p.name for p in paths))
