"""``show``: display the source of an mflab function in a notebook, so the lesson shows the code
that actually runs (one source, never a second copy that can drift)."""
from __future__ import annotations

import inspect


class Source(str):
    """Source text that renders as a highlighted Python block in Jupyter and as plain text elsewhere."""

    def _repr_markdown_(self):
        return f"```python\n{self}```"

    def __repr__(self):
        return str(self)


def show(obj) -> Source:
    """The source code of ``obj`` (a function, class or module of mflab)."""
    return Source(inspect.getsource(obj))
