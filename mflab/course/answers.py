"""The answer key's format for concept-check answers: a closed ``<details>`` block.

A concept check is a markdown cell that starts with ``**Check:**``; its answer is the markdown cell
right after it, tagged ``solution``. In the answer key (``notebooks/``) that answer reads::

    <details><summary>Answer</summary>

    5. Every column of ... (the answer, any markdown and maths)

    </details>

so that it gives nothing away until someone clicks "Answer", whatever JupyterLab does to the cell:
the block is the cell's *content*, not its metadata. A collapsed cell (``source_hidden``) shows
its first line, which is now ``<details><summary>Answer</summary>``; "Run All" expands collapsed
cells and a save writes that into the file, but neither opens a ``<details>`` element. The student
views (:mod:`mflab.course.views`) keep this block or drop the answer, and the lesson conventions
test (tests/test_lesson_conventions.py) requires it.

    python -m mflab.course.answers notebooks/*.ipynb          # convert (markdown and metadata only)
    python -m mflab.course.answers --check notebooks/*.ipynb  # list what is not in the format

Converting touches only the answer cells' text; code cells, outputs and execution counts are left
byte for byte as they were, so the lessons need no re-execution.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

SOLUTION_TAG = "solution"
CHECK_PREFIX = "**Check:**"
ANSWER_OPEN = "<details><summary>Answer</summary>"
ANSWER_CLOSE = "</details>"
# What an answer used to open with: "**Answer.** 5. Every column..." gives itself away in one line.
_OLD_LEAD = re.compile(r"^\s*\*\*Answers?\s*[.:]?\s*\*\*\s*[.:]?\s*", re.IGNORECASE)
_LIST_START = re.compile(r"^(\d+)([.)]\s)")


def cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tagged(cell: dict, tag: str = SOLUTION_TAG) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def is_check(cell: dict) -> bool:
    """A concept-check question: an untagged markdown cell starting with ``**Check:**``."""
    return (cell.get("cell_type") == "markdown" and not tagged(cell)
            and cell_text(cell).lstrip().startswith(CHECK_PREFIX))


def check_answers(cells: list[dict]) -> list[int]:
    """Indices of the concept-check answers: tagged markdown cells right after a check."""
    return [n for n in range(1, len(cells))
            if is_check(cells[n - 1]) and cells[n].get("cell_type") == "markdown" and tagged(cells[n])]


def is_details(text: str) -> bool:
    """True for exactly one closed ``<details><summary>Answer</summary> ... </details>`` block with
    an answer inside (no ``open`` attribute, nothing before or after it)."""
    text = text.strip()
    if not (text.startswith(ANSWER_OPEN) and text.endswith(ANSWER_CLOSE)):
        return False
    body = text[len(ANSWER_OPEN):-len(ANSWER_CLOSE)]
    return bool(body.strip()) and "<details" not in body and "</details>" not in body


def answer_body(text: str) -> str:
    """The answer itself, without the ``<details>`` wrapping or an old ``**Answer.**`` lead."""
    text = text.strip()
    if is_details(text):
        text = text[len(ANSWER_OPEN):-len(ANSWER_CLOSE)].strip()
    return _OLD_LEAD.sub("", text, count=1).strip()


def as_details(text: str) -> str:
    """``text`` (an answer, in either format) as a closed ``<details>`` block.

    The blank lines around the body make it markdown again inside the HTML block (CommonMark), so
    its emphasis, lists and ``$...$`` maths render as before."""
    body = answer_body(text)
    if not body:
        raise ValueError("as_details: the answer is empty; a concept check needs an answer to hide")
    # "**Answer.** 5. Every column ..." lost its lead: "5. " would now start a numbered list.
    body = _LIST_START.sub(r"\1\\\2", body, count=1)
    return f"{ANSWER_OPEN}\n\n{body}\n\n{ANSWER_CLOSE}"


def format_problems(cells: list[dict]) -> list[str]:
    """What breaks the format in one lesson's cells, one readable line each; empty when it holds."""
    problems = []
    for n, cell in enumerate(cells):
        text = cell_text(cell)
        if is_check(cell):
            after = cells[n + 1] if n + 1 < len(cells) else None
            if after is None or after.get("cell_type") != "markdown" or not tagged(after):
                problems.append(f"cell {n}: the check {text.strip()[:50]!r} is not followed by a markdown "
                                f"cell tagged {SOLUTION_TAG!r} holding its answer")
            elif not is_details(cell_text(after)):
                problems.append(f"cell {n + 1}: the answer to {text.strip()[:40]!r} is not one closed "
                                f"'{ANSWER_OPEN} ... {ANSWER_CLOSE}' block: {cell_text(after).strip()[:50]!r}")
        elif cell.get("cell_type") == "markdown" and _OLD_LEAD.match(text):
            problems.append(f"cell {n}: an answer opening with its first line visible: {text.strip()[:50]!r}")
    return problems


def convert(nb: dict) -> int:
    """Put every concept-check answer of the notebook dict ``nb`` in the format (in place); return
    how many cells changed. Only the answer cells' ``source`` is rewritten; their tags stay."""
    changed = 0
    for n in check_answers(nb["cells"]):
        cell = nb["cells"][n]
        new = as_details(cell_text(cell))
        if cell_text(cell) != new:
            cell["source"] = new.splitlines(keepends=True)
            changed += 1
    return changed


def _write(path: Path, nb: dict) -> None:
    # nbformat's own layout (sorted keys, indent 1, UTF-8), so that only the edited cells differ.
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mflab.course.answers",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only report; change nothing")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path} is not a notebook file (*.ipynb)")
        nb = json.loads(path.read_text(encoding="utf-8"))
        if args.check:
            problems = format_problems(nb["cells"])
            failed |= bool(problems)
            for line in problems:
                print(f"{path}: {line}")
            continue
        changed = convert(nb)
        if changed:
            _write(path, nb)
        left = format_problems(nb["cells"])
        failed |= bool(left)
        print(f"{path}: {changed} answers converted" + "".join(f"\n    still: {line}" for line in left))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
