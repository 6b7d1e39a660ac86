"""A one-line-per-step progress report for long fits (``progress=True``), with no dependency."""
from __future__ import annotations


class Progress:
    """Prints ``"<label> 3/20: train_rmse 0.9123, test_rmse 0.9456"`` after each step when enabled.

    Lines carry no timings, so a notebook's stored output stays the same when it is re-run.
    """

    def __init__(self, label: str, total: int, *, enabled: bool):
        self.label, self.total, self.enabled, self.done = label, total, enabled, 0

    def step(self, history: dict) -> None:
        self.done += 1
        if not self.enabled:
            return
        last = ", ".join(f"{name} {values[-1]:.4f}" for name, values in history.items() if values)
        print(f"{self.label} {self.done}/{self.total}: {last}", flush=True)
