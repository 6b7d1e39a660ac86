"""The lesson standard (INSTRUCTORS.md, "The lesson standard"), as far as a test can hold it.

Every lesson:
- opens with "You will learn" (three to five points), what it assumes, and its time: at most 60
  minutes, exercises included, stated once as "**Time:** N minutes, exercises included"; the
  speaker notes' minutes add up to the same N;
- practises its points: at least as many concept checks and exercises as learning points, and at
  least one exercise ends in an ``mflab.checks`` call that exists;
- defines every metric with a formula (display maths) in the first lesson that uses it;
- prints what it claims: every decimal number in its prose (and every percentage with a decimal)
  was printed by a cell above it, appears in a cell above it, or is pinned by a unit test;
- keeps the notation table's one meaning per symbol where a pattern can see a second meaning.

What no test can see (a check answered by the cell just above it, a symbol used before it is
defined) is read by a fresh reader before a lesson is called done.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

import mflab.checks

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIME = re.compile(r"\*\*Time:\*\* (\d+) minutes, exercises included")
MINUTES = re.compile(r"(\d+) min(?:ute)?s?\b")

# metric -> (how prose mentions it, what its defining display formula must contain)
METRICS = {
    "RMSE": (r"\bRMSE\b", r"RMSE"),
    "MAE": (r"\bMAE\b", r"MAE"),
    "precision": (r"\bprecision@|\bprecision at\b", r"precision"),
    "recall": (r"\brecall@|\brecall at\b", r"recall"),
    "NDCG": (r"\bNDCG\b", r"NDCG"),
    "hit rate": (r"\bhit rate\b|\bHR@", r"hit|HR"),
    "MAP": (r"\bMAP@|\bMAP\b|\baverage precision\b", r"AP"),
    "AUC": (r"\bAUC\b", r"AUC"),
    "catalogue coverage": (r"\bcoverage@|\bcatalog(?:ue)? coverage\b", r"coverage"),
}
# second meanings of a symbol that the notation table gives one meaning (sigma: singular values;
# p, q: user and item factors)
FORBIDDEN_NOTATION = {
    r"\\sigma\s*\(": "sigma is the singular values; write the sigmoid as \\operatorname{sigmoid}(x)",
    r"\\sigma\^2|\\sigma_\{?(?:noise|\\varepsilon|\\epsilon)": "sigma is the singular values; a noise level is 1/beta or s",
    r"p_\{ui\}": "p_u is a user's factors; the implicit preference is \\pi_{ui}",
    r"\\mathbf\{[xy]\}_[ui]\b": "the factor letters are p_u and q_i in every lesson",
}
NUMBER = re.compile(r"(?<![\w.\\/#-])(\d+\.\d{2,}|\d+\.\d(?=\s*%))(?![\w.])")
CODE_SPAN = re.compile(r"`[^`]*`")


def cells_of(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"])


def outputs(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for kind in ("text/plain", "text/html", "text/markdown", "text/latex"):
            parts.append("".join(out.get("data", {}).get(kind, "")))
    return "\n".join(parts)


def prose(cells):
    return [(j, text(c)) for j, c in enumerate(cells) if c["cell_type"] == "markdown"]


@lru_cache(maxsize=None)
def pinned_numbers() -> tuple:
    """Every decimal number written in a unit test (a number pinned there may be quoted in prose)."""
    found = set()
    for path in (ROOT / "tests").glob("*.py"):
        found.update(re.findall(r"\d+\.\d+", path.read_text(encoding="utf-8")))
    return tuple(float(x) for x in found)


def numbers_in(s: str):
    return [float(x) for x in re.findall(r"-?\d+\.\d+|-?\d+", s)]


def seen(value: str, earlier: list[float]) -> bool:
    """``value`` as written (so many decimals) matches some earlier number rounded the same way,
    or that number as a percentage."""
    decimals = len(value.split(".")[1])
    x, tol = float(value), 0.5 * 10 ** -decimals + 1e-12
    return any(abs(y - x) <= tol or abs(100 * y - x) <= tol for y in earlier)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_opens_with_what_it_teaches_assumes_and_takes(path):
    cells = cells_of(path)
    head = text(cells[0])
    learn = re.search(r"\*\*You will learn\*\*\n((?:- .*\n(?:  .*\n)*)+)", head + "\n")
    assert learn, "the first cell has a '**You will learn**' list"
    points = re.findall(r"^- ", learn.group(1), re.M)
    assert 3 <= len(points) <= 5, f"three to five learning points; found {len(points)}"
    assert re.search(r"\*\*Assumes:?\*\*", head), "the first cell says what the lesson assumes"
    times = TIME.findall(head)
    assert len(times) == 1, "the first cell states the time once: '**Time:** N minutes, exercises included'"
    minutes = int(times[0])
    assert minutes <= 60, f"a lesson takes at most 60 minutes; this one states {minutes}"
    notes = [t for _, t in prose(cells) if t.startswith("Speaker notes:")]
    assert notes, "speaker notes with timings"
    per_note = [MINUTES.findall(t) for t in notes]
    assert all(len(m) == 1 for m in per_note), \
        "each speaker-notes cell gives its section's time once ('... (N minutes)')"
    assert sum(int(m[0]) for m in per_note) == minutes, \
        f"the speaker notes' minutes add up to {sum(int(m[0]) for m in per_note)}, the lesson states {minutes}"
    for _, t in prose(cells)[1:]:
        assert not TIME.search(t), "the time is stated in the first cell only"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_point_is_practised_and_an_exercise_is_checked(path):
    cells = cells_of(path)
    head = text(cells[0])
    learn = re.search(r"\*\*You will learn\*\*\n((?:- .*\n(?:  .*\n)*)+)", head + "\n")
    points = len(re.findall(r"^- ", learn.group(1), re.M)) if learn else 0
    checks = sum(t.startswith("**Check:**") for _, t in prose(cells))
    exercises = sum(bool(re.match(r"###\s+Exercise", t)) for _, t in prose(cells))
    assert checks + exercises >= points, \
        f"{points} learning points but {checks} concept checks and {exercises} exercises"
    start = next((j for j, t in prose(cells) if t.startswith("## Exercises")), None)
    assert start is not None, "an '## Exercises' section"
    calls = [name for c in cells[start:] if c["cell_type"] == "code"
             for name in re.findall(r"\bchecks\.(\w+)\(", text(c))]
    assert calls, "at least one exercise ends in an mflab.checks call"
    for name in calls:
        assert callable(getattr(mflab.checks, name, None)), f"mflab.checks.{name} does not exist"


def test_every_metric_is_defined_where_it_is_first_used():
    for metric, (mention, formula) in METRICS.items():
        for path in NOTEBOOKS:
            texts = [CODE_SPAN.sub("", t) for _, t in prose(cells_of(path))]
            if not any(re.search(mention, t) for t in texts):
                continue
            displays = [m for t in texts for m in re.findall(r"\$\$(.*?)\$\$", t, re.S)]
            assert any(re.search(formula, d) and "=" in d for d in displays), \
                f"{metric} is first used in {path.name}, which gives no display formula for it"
            break


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_number_in_the_prose_was_printed_above_or_is_pinned(path):
    cells = cells_of(path)
    earlier: list[float] = list(pinned_numbers())
    missing = []
    for c in cells:
        if c["cell_type"] == "markdown":
            for value in NUMBER.findall(CODE_SPAN.sub("", text(c))):
                if not seen(value, earlier):
                    missing.append(f"{value} in {text(c)[:70]!r}")
            earlier.extend(numbers_in(text(c)))  # a number may be quoted again further down
        else:
            earlier.extend(numbers_in(text(c)) + numbers_in(outputs(c)))
    assert not missing, "numbers in the prose that no cell above printed and no test pins:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_one_meaning_per_symbol(path):
    for _, t in prose(cells_of(path)):
        for pattern, why in FORBIDDEN_NOTATION.items():
            assert not re.search(pattern, t), f"{why}: {t[:80]!r}"


def test_the_number_check_is_not_blind():
    assert seen("0.9046", [0.904571]) and not seen("0.9046", [0.9041])
    assert seen("97.6", [0.9761]) and not seen("97.6", [0.95])
    assert NUMBER.findall(CODE_SPAN.sub("", "RMSE 0.9046 and 97.6% but not `lr=0.005` or 3.1")) == ["0.9046", "97.6"]
