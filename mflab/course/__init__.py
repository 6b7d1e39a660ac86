"""Course tooling, apart from the library: the views of the lessons for each audience.

The lessons in ``notebooks/`` are the one source and the answer key (nbval runs them). Everything
here is generated from them and never edited by hand:

- :mod:`mflab.course.views`: what students get, the workspace of ``make lab`` / ``make workspace``
  and the hand-out copies of ``make student`` (no solutions, no speaker notes, concept-check answers
  behind a click or absent);
- :mod:`mflab.course.slides`: the lecture decks of ``make slides`` (reveal.js and MathJax 3, offline);
- :mod:`mflab.course.answers`: the answer format of the key (each concept-check answer inside a
  closed ``<details>`` block), written and checked.

Nothing in the rest of ``mflab`` imports this subpackage (tests/test_imports.py).
"""
