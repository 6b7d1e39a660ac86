"""The README's example runs as written, and prints the numbers its comments quote."""
import re
from pathlib import Path

import numpy as np

README = Path(__file__).parents[1] / "README.md"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index("MovieLens is one call away"):]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_readme_example_runs_and_its_numbers_are_what_it_prints(tmp_path, monkeypatch):
    code = example()
    monkeypatch.chdir(tmp_path)  # it saves a model file
    lines = [line.split("#")[0].rstrip() for line in code.splitlines()]
    quoted = {line.split("#")[0].strip(): re.search(r"# (\d+\.\d+)", line).group(1)
              for line in code.splitlines() if re.search(r"# \d+\.\d+", line)}
    namespace: dict = {}
    for line in lines:
        if not line:
            continue
        if line.strip() in quoted:
            value = eval(line.strip(), namespace)  # an expression whose value the comment quotes
            assert f"{value:.4f}" == quoted[line.strip()], line
        else:
            exec(line, namespace)
    assert (tmp_path / "als_u1.npz").is_file()
    from mflab import Factorization

    loaded = Factorization.load(tmp_path / "als_u1.npz")
    np.testing.assert_array_equal(loaded.P, namespace["model"].P)
    assert len(quoted) == 2 and float(quoted["model.rmse(test)"]) < float(quoted["baseline.fit(train).rmse(test)"])
