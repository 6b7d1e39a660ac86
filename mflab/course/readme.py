"""The README.md written beside the student views: the lesson table and the notation table.

Every lesson links "Contents" to ``../README.md`` and its symbols to ``../README.md#notation``. In
a folder JupyterLab serves (the workspace), ``..`` is out of reach, so the views point those links
at this file instead: the lessons it sits beside, with their stated times, and the repository
README's notation section, copied verbatim under an explicit ``notation`` anchor.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from . import lesson

MARKER = ("<!-- Written by mflab.course.views (make workspace, make student) from the lessons and the "
          "repository's README.md; rewritten on every run: do not edit. -->")
ANCHOR = '<a id="notation"></a>'


def notation_section(readme_text: str, source: str = "README.md") -> str:
    """The ``Notation`` section of a README: its heading down to the next heading of its level."""
    m = re.search(r"^(#{1,6})\s+Notation\s*$", readme_text, flags=re.M)
    if m is None:
        raise ValueError(f"{source} has no '## Notation' section; every lesson links its symbols to it "
                         "(README.md#notation), so the student views must carry it")
    level = len(m.group(1))
    end = re.compile(rf"^#{{1,{level}}}\s", flags=re.M).search(readme_text, m.end())
    section = readme_text[m.start():end.start() if end else len(readme_text)].rstrip()
    return re.sub(r"\]\(notebooks/", "](", section)  # a lesson link from the repository root


def readme_text(paths, readme_source, workspace: bool = True) -> str:
    rows = []
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        minutes = lesson.stated_minutes(nb)
        number = re.match(r"\d+", path.stem)
        rows.append(f"| {number.group(0) if number else ''} | [{lesson.short_title(nb, path.stem)}]"
                    f"({path.name}) | {f'about {minutes} minutes' if minutes else ''} |")
    notation = notation_section(Path(readme_source).read_text(encoding="utf-8"), str(readme_source))
    own = ": `make workspace` adds lessons that are missing here but never overwrites one that is" if workspace else ""
    return f"""{MARKER}

# mflab: the lessons

Each lesson opens with what it teaches, what it assumes and how long it takes, and ends with
exercises. Open one, run its cells from the top (Shift+Enter, or Run > Run All Cells), change them,
and write your answers in the cells marked "Your answer". These notebooks are your own copies{own}.

| # | Lesson | Time |
|---|--------|------|
""" + "\n".join(rows) + f"\n\n{ANCHOR}\n\n{notation}\n"


def write_readme(paths, out, readme_source, workspace: bool = True) -> Path:
    """Write ``out/README.md`` (unless a README not written by this module is there); return it.
    ``workspace``: say that `make workspace` never overwrites a lesson (not for hand-out copies)."""
    target = Path(out) / "README.md"
    text = readme_text(paths, readme_source, workspace)
    if target.exists():
        current = target.read_text(encoding="utf-8")
        if not current.startswith(MARKER):
            warnings.warn(f"{target} was not written by mflab.course.views; left as it is", stacklevel=3)
            return target
        if current == text:
            return target
    target.write_text(text, encoding="utf-8")
    return target
