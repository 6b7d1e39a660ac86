"""Run a student's function on a list of cases where it can always be stopped.

The function runs in a **child process** made by ``os.fork()``: the child is a copy of the notebook's
kernel, so a function defined in a notebook cell (``__main__``) is there as it is, with its globals,
closures and imports, and nothing has to be pickled on the way in. The child sends back each
case's result (pickled) through a pipe; the parent waits at most ``timeout`` seconds per case, then
ends the child's whole process group with SIGKILL. Nothing inside the function can stop that: not
a loop inside C code (``max(itertools.count())``), not a bare ``except:`` around a retry loop, not
a thread, so the notebook is never frozen and the check reports that the function was stopped.
The child's prints are captured (the first :data:`OUTPUT_LIMIT` characters) and shown by the
parent; changes the function makes to its inputs or to globals stay in the child.

Where there is no ``os.fork`` (Windows), or with ``MFLAB_CHECKS_IN_PROCESS=1`` (a platform where
forking a kernel misbehaves), the function runs in the notebook's own process instead: a loop in
Python code is still stopped (SIGALRM in the main thread, an asynchronous exception in a helper
thread), but a loop inside C code is not; the kernel's interrupt button is then the way out. A
spawned child (the other way to start a process) could not run a function defined in a notebook,
since the child would import a fresh ``__main__`` without it.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

IN_PROCESS_ENV = "MFLAB_CHECKS_IN_PROCESS"
OUTPUT_LIMIT = 10_000  # characters of the function's own prints shown per case
_MFLAB_DIR = str(Path(__file__).resolve().parents[1])
_HEADER = struct.Struct("!Q")


@dataclass
class Outcome:
    """What one call gave: ``kind`` is "value" (``value`` holds it), "raised" (``text`` says what,
    ``error`` the exception's class name), "stopped" (past the time limit), "died" (the child ended
    without an answer; ``text`` says how) or "unsendable" (a value that cannot leave the child;
    ``text`` describes it). ``output``: what the function printed."""
    kind: str
    value: object = None
    text: str = ""
    error: str = ""
    output: str = ""


def forking() -> bool:
    """True when the checks run the student's function in a forked child (see the module docstring)."""
    return hasattr(os, "fork") and os.environ.get(IN_PROCESS_ENV, "") not in ("1", "true", "yes")


def run_cases(fn, cases, timeout: float):
    """Yield one :class:`Outcome` per case, in order, stopping after the first "stopped" or "died"."""
    runner = _run_forked if forking() else _run_in_process
    yield from runner(fn, cases, timeout)


# --------------------------------------------------------------------------- the forked child
def _run_forked(fn, cases, timeout):
    for stream in (sys.stdout, sys.stderr):  # so that no buffered text is copied into the child
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 (a closed or odd stream must not stop the check)
            pass
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():  # 3.12+ warns about forking a threaded process (a kernel is one)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:  # no memory or process slot left for a child: run here, as without fork
        os.close(read_end)
        os.close(write_end)
        yield from _run_in_process(fn, cases, timeout)
        return
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(fn, cases, write_end)
    os.close(write_end)
    try:
        for _ in cases:
            outcome = _receive(read_end, timeout, pid)
            yield outcome
            if outcome.kind in ("stopped", "died"):
                return
    finally:
        _end(pid)
        os.close(read_end)


def _child(fn, cases, write_end):
    """Run every case, send each outcome, and leave with ``os._exit`` (no kernel clean-up runs)."""
    code = 0
    try:
        os.setpgid(0, 0)  # its own process group, so that the kill also reaches what it starts
        buffer = _Bounded()
        sys.stdout = sys.stderr = buffer
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for args in cases:
            try:
                outcome = Outcome("value", fn(*args))
            except BaseException as exc:  # noqa: BLE001 (SystemExit and KeyboardInterrupt too)
                outcome = Outcome("raised", text=f"{type(exc).__name__}: {exc}{where(exc)}",
                                  error=type(exc).__name__)
            outcome.output = buffer.take()
            try:
                data = pickle.dumps(outcome)
            except Exception:  # noqa: BLE001 (a generator, a lock, an open file...)
                data = pickle.dumps(Outcome("unsendable", text=describe(outcome.value), output=outcome.output))
            _write_all(write_end, _HEADER.pack(len(data)) + data)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _write_all(fd, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd, timeout: float, pid: int) -> Outcome:
    """The next outcome from the child, or "stopped" after ``timeout`` s, or "died" on EOF."""
    deadline = time.monotonic() + timeout
    header = _read(fd, _HEADER.size, deadline)
    if isinstance(header, Outcome):
        return header if header.kind == "stopped" else _died(pid)
    body = _read(fd, _HEADER.unpack(header)[0], deadline)
    if isinstance(body, Outcome):
        return body if body.kind == "stopped" else _died(pid)
    return pickle.loads(body)


def _read(fd, n: int, deadline: float):
    chunks, left = [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return Outcome("stopped")
        chunk = os.read(fd, left)
        if not chunk:
            return Outcome("died")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _died(pid: int) -> Outcome:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # reaped by a SIGCHLD handler of the host (an event loop, say)
        return Outcome("died", text="the process running the function ended before it returned")
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        how = f"was killed by signal {signal.Signals(number).name}" if number in signal.valid_signals() else \
            f"was killed by signal {number}"
    else:
        how = f"exited with code {os.WEXITSTATUS(status)} (os._exit?)"
    return Outcome("died", text=f"the process running the function {how} before it returned")


def _end(pid: int) -> None:
    """SIGKILL the child's process group (and the child itself, had setpgid not run yet); reap it."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # already reaped by _died
        pass


class _Bounded:
    """A text stream keeping only the first :data:`OUTPUT_LIMIT` characters written since the last
    :meth:`take`: a function printing in an endless loop must not fill the child's memory."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, text):
        text = str(text)
        keep = text[:max(0, OUTPUT_LIMIT - self.size)]
        self.parts.append(keep)
        self.size += len(keep)
        self.dropped += len(text) - len(keep)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n... ({self.dropped:,} more characters of output not shown)\n"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


# --------------------------------------------------------------------------- in process (no fork)
class _TimedOut(BaseException):
    """Raised inside a function that runs past the limit (a BaseException, so that ``except
    Exception`` in the student's code cannot swallow it; a bare ``except:`` still can)."""


def _run_in_process(fn, cases, timeout):
    for args in cases:
        try:
            outcome = Outcome("value", _call(fn, args, timeout))
        except _TimedOut:
            outcome = Outcome("stopped")
        except Exception as exc:  # noqa: BLE001 (a student's bug is a failed case)
            outcome = Outcome("raised", text=f"{type(exc).__name__}: {exc}{where(exc)}", error=type(exc).__name__)
        yield outcome
        if outcome.kind == "stopped":
            return


def _call(fn, args, seconds: float):
    """``fn(*args)``, interrupted with :class:`_TimedOut` after ``seconds`` (Python code only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return _call_in_thread(fn, args, seconds)

    def alarm(signum, frame):
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:  # nested, so the handler comes back even if the alarm fires in the inner finally
        signal.signal(signal.SIGALRM, previous)


def _call_in_thread(fn, args, seconds: float):
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 (handed to the caller below)
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="mflab-check")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():  # stops a Python-level loop; code stuck inside C cannot be stopped here
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_TimedOut))
        worker.join(1.0)
        raise _TimedOut
    if "error" in box:
        raise box["error"]
    return box["value"]


# --------------------------------------------------------------------------- words
def where(exc: BaseException) -> str:
    """`` (in f, line 3: `return 1 / 0`)`` for the innermost frame outside numpy and mflab."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_MFLAB_DIR) and "site-packages" not in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" (in {f.name}, line {f.lineno}: `{f.line}`)" if f.line else f" (in {f.name}, line {f.lineno})"


def describe(value) -> str:
    text = repr(value)
    return f"a {type(value).__name__} ({text if len(text) <= 60 else text[:57] + '...'})"
