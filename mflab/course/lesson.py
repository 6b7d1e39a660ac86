"""What the course tools read from a lesson's own cells: its title, the time it states, its speaker notes."""
from __future__ import annotations

import re

from .answers import cell_text

# "**Time** about 30 minutes", "**Time:** about 50 minutes; ..." in the lesson's first cell.
_TIME = re.compile(r"\*\*Time\b[^*]*\*\*\s*:?\s*(?:about|around|roughly|at most)?\s*(\d+)\s*min", re.IGNORECASE)
_HEADING = re.compile(r"^#\s+(.+?)\s*$", re.M)
_LESSON_PREFIX = re.compile(r"^Lesson\s+\d+\s*[·:.\-–—]\s*")


def is_speaker_notes(cell: dict) -> bool:
    """A speaker-notes cell: a ``notes`` slide, or a cell whose text starts "Speaker notes"."""
    return (cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"
            or cell_text(cell).lstrip().lower().startswith("speaker notes"))


def title(nb: dict, fallback: str) -> str:
    """The lesson's first top-level heading (``# Lesson 01 · A toy matrix``), without the '#'."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = _HEADING.search(cell_text(cell))
            if m:
                return m.group(1)
    return fallback


def short_title(nb: dict, fallback: str) -> str:
    """The title without its "Lesson NN ·" prefix (``A toy matrix``)."""
    return _LESSON_PREFIX.sub("", title(nb, fallback)) or fallback


def stated_minutes(nb: dict) -> int | None:
    """The minutes the lesson's first cell states ("**Time** about 30 minutes"), or None."""
    cells = nb.get("cells", [])
    if not cells:
        return None
    m = _TIME.search(cell_text(cells[0]))
    return int(m.group(1)) if m else None
