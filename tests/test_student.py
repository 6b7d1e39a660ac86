import json
from pathlib import Path

from mflab import student

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


def test_strip_removes_solutions_and_outputs(tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "Exercise 1"},
        {"cell_type": "code", "metadata": {"tags": ["solution"], "jupyter": {"source_hidden": True}},
         "source": "answer = 42", "outputs": [{"output_type": "stream", "text": "42"}], "execution_count": 3},
        {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [{"output_type": "stream"}], "execution_count": 4},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "01_x.ipynb").write_text(json.dumps(nb))
    [written] = student.main(str(tmp_path / "src"), str(tmp_path / "out"))
    out = json.loads(written.read_text())
    assert out["cells"][1]["source"] == student.PLACEHOLDER and out["cells"][1]["metadata"] == {}
    assert out["cells"][2]["source"] == "x = 1"
    assert all(c.get("outputs", []) == [] for c in out["cells"])
    assert "answer = 42" not in written.read_text()


def test_every_lesson_has_exercises_with_hidden_solutions():
    lessons = sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in lessons:
        cells = json.loads(path.read_text())["cells"]
        solutions = [c for c in cells if "solution" in c["metadata"].get("tags", [])]
        assert solutions, f"{path.name} has no solution cells tagged 'solution'"
        for c in solutions:
            assert c["metadata"].get("jupyter", {}).get("source_hidden"), f"{path.name}: a solution cell is not collapsed"
