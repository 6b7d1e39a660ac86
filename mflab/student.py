"""Write student copies of the lessons: solution cells removed, outputs cleared.

    python -m mflab.student notebooks student      (what ``make student`` runs)

A solution is a code cell tagged ``solution`` (hidden in JupyterLab, run by nbval). In the student
copy it becomes an empty code cell with a "your solution here" comment, so the exercise keeps its
place; every output is cleared so the student runs the lesson themselves.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PLACEHOLDER = "# Your solution here.\n"


def strip(nb: dict) -> dict:
    """A copy of the notebook dict ``nb`` without solutions or outputs."""
    cells = []
    for cell in nb["cells"]:
        cell = dict(cell)
        if cell["cell_type"] == "code":
            if "solution" in cell.get("metadata", {}).get("tags", []):
                cell["source"] = PLACEHOLDER
                cell["metadata"] = {k: v for k, v in cell["metadata"].items() if k not in ("tags", "jupyter")}
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    return dict(nb, cells=cells)


def main(src: str = "notebooks", dst: str = "student") -> list[Path]:
    """Write a stripped copy of every ``src/*.ipynb`` into ``dst``; returns the paths written."""
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(src).glob("*.ipynb")):
        nb = strip(json.loads(path.read_text(encoding="utf-8")))
        target = out / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    paths = main(*sys.argv[1:3])
    print(f"wrote {len(paths)} student notebooks: " + ", ".join(str(p) for p in paths))
