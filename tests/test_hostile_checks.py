"""mflab.checks against functions that never return or misbehave (issue 25, class 7): a loop inside
C code (``max(itertools.count())``), a bare ``except:`` around a retry loop, the same C loop run
from a thread, a function that exits its process, prints forever or starts processes of its own.
Each is stopped within its time-out plus two seconds, the message says it was stopped, and the
notebook (here pytest's process, and a real Jupyter kernel) goes on; the function runs in a forked
child, so what it changes stays there."""
import itertools
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from mflab import checks


def good_rmse(a, b):
    return np.sqrt(np.mean((a - b) ** 2))


def endless(*args):
    while True:
        try:
            pass
        except Exception:  # a student's catch-all must not swallow the time-out
            pass


# The three runaways of issue 25, class 7, as a student writes them.
def c_loop(*args):
    return max(itertools.count())  # never returns, and never comes back to Python's eval loop


def bare_except_retry(*args):
    while True:
        try:
            time.sleep(10)
        except:  # noqa: E722 (the point: it swallows whatever interrupts it)
            pass


def run_timed(check, fn, timeout=0.5):
    started = time.monotonic()
    ok = check(fn, timeout=timeout)
    return ok, time.monotonic() - started


@pytest.mark.parametrize("fn", [c_loop, bare_except_retry, endless])
def test_every_kind_of_runaway_is_stopped_within_the_time_out_plus_two_seconds(fn, capsys):
    ok, took = run_timed(checks.rmse, fn)
    out = capsys.readouterr().out
    assert ok is False and took < 0.5 + 2
    assert "FAIL: still running after 0.5 s, so it was stopped" in out
    assert "separate process, which was ended" in out


def test_a_c_loop_on_the_thread_path_is_stopped_too(capsys):
    result = {}
    worker = threading.Thread(target=lambda: result.update(zip(("ok", "took"), run_timed(checks.rmse, c_loop))))
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and result["ok"] is False and result["took"] < 2.5
    assert "so it was stopped" in capsys.readouterr().out


def test_the_time_out_stops_every_runaway_inside_a_jupyter_kernel(monkeypatch):
    """In a real kernel (cells run in its main thread): each runaway is stopped in time, from the
    main thread and from a thread, and the kernel goes on running cells."""
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")  # the venv's kernel, as `make lab` uses
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    setup = ("import itertools, threading, time\nfrom mflab import checks\n"
             "def c_loop(a, b):\n    return max(itertools.count())\n"
             "def retry(a, b):\n    while True:\n        try:\n            time.sleep(10)\n"
             "        except:\n            pass\n"
             "def timed(fn):\n    t = time.monotonic()\n    ok = checks.rmse(fn, timeout=0.5)\n"
             "    print(f'took {time.monotonic() - t:.2f} s, result {ok}')\n")
    in_thread = ("box = []\nth = threading.Thread(target=lambda: box.append(timed(c_loop)))\n"
                 "th.start(); th.join(10)\nprint('thread finished:', not th.is_alive())")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (
        setup, "timed(c_loop)", "timed(retry)", in_thread, "print('the kernel is still alive')")])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    for text in texts[1:4]:
        assert "still running after 0.5 s, so it was stopped" in text
        took = float(text.split("took ")[1].split(" s")[0])
        assert took < 2.5 and "result False" in text
    assert "thread finished: True" in texts[3]
    assert texts[4] == "the kernel is still alive\n"


# --- the child process keeps the notebook's state apart -----------------------------------------

STATE = {"calls": 0}


def test_what_the_function_changes_stays_in_the_child(capsys):
    def meddling(a, b):
        STATE["calls"] += 1
        a[:] = 0
        return good_rmse(a, b)

    checks.rmse(meddling)
    assert STATE["calls"] == 0


def test_the_function_s_prints_are_shown_and_bounded(capsys):
    def chatty(a, b):
        print("debug:", len(a))
        return good_rmse(a, b)

    assert checks.rmse(chatty) is True
    assert "debug: 1\ncase 1 (1 rating): ok" in capsys.readouterr().out

    def flood(a, b):
        while True:
            print("x" * 1000)

    checks.rmse(flood, timeout=0.3)
    out = capsys.readouterr().out
    assert len(out) < 20_000 and "so it was stopped" in out


def test_a_function_that_ends_its_process_or_returns_no_data(capsys):
    ok = checks.rmse(lambda a, b: os._exit(3))
    out = capsys.readouterr().out
    assert ok is False and "exited with code 3" in out and "the other 3 cases were not run" in out
    ok = checks.rmse(lambda a, b: (x for x in a))
    out = capsys.readouterr().out
    assert ok is False and "returned a generator" in out


def test_what_the_function_starts_is_stopped_with_it(tmp_path, capsys):
    pid_file = tmp_path / "pid"

    def spawner(a, b):
        pid_file.write_text(str(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]).pid))
        while True:
            pass

    checks.rmse(spawner, timeout=1.0)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z":
            break  # killed, waiting to be reaped by init
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the check")


def test_without_fork_it_runs_in_process_and_still_stops_a_python_loop(monkeypatch, capsys):
    monkeypatch.setenv("MFLAB_CHECKS_IN_PROCESS", "1")
    ok, took = run_timed(checks.rmse, endless, timeout=0.3)
    out = capsys.readouterr().out
    assert ok is False and took < 2.3 and "still running after 0.3 s, so it was stopped" in out
    assert "separate process" not in out
    assert run_timed(checks.rmse, good_rmse)[0] is True


def test_when_no_child_can_be_made_it_runs_in_process(monkeypatch, capsys):
    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert checks.rmse(good_rmse) is True
    assert checks.rmse(lambda a, b: good_rmse(a, b) + 1) is False
    assert "case 1 (1 rating): FAIL" in capsys.readouterr().out
