"""Named kill points for crash-safety tests.

``checkpoint("after-commit")`` does nothing unless the environment variable
``BATCHSHIP_KILL_AT`` names that point when the process starts: then the
process SIGKILLs itself there (``name#N``: the N-th time the point is reached).
SIGKILL, not an exception: no ``finally``, no ROLLBACK, no flush — exactly what
a power cut or the OOM killer does to a run.

``BATCHSHIP_FAIL_AT=name:ENOSPC`` (any errno name) instead raises that OSError
every time the point is reached, ``name:bug`` a RuntimeError, and ``name:SIGINT`` or
``name:SIGTERM`` sends the process that signal: the disk filling up, a folder turning
read-only, a step with a bug, or Ctrl-C and a service manager's stop, at that point.
It is read at each checkpoint, so a test can set and clear it between runs.
"""
from __future__ import annotations

import errno
import os
import signal

ENV = "BATCHSHIP_KILL_AT"
FAIL_ENV = "BATCHSHIP_FAIL_AT"


def _target(spec: str) -> tuple[str, int] | None:
    if not spec:
        return None
    name, _, nth = spec.partition("#")
    return name, int(nth) if nth else 1


_TARGET = _target(os.environ.get(ENV, ""))
_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """Die here by SIGKILL when ``BATCHSHIP_KILL_AT`` names this point (and its occurrence);
    raise when ``BATCHSHIP_FAIL_AT`` names it."""
    fail = os.environ.get(FAIL_ENV)
    if fail:
        _fail(name, fail)
    if _TARGET is None or _TARGET[0] != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)


def worker_checkpoint(name: str) -> None:
    """A kill point inside a worker process of the run: SIGKILL the run itself (the parent), as a
    power cut or the OOM killer would while its workers are busy; the workers die with it.
    ``BATCHSHIP_FAIL_AT`` names it as it names any point: the worker's task fails there."""
    fail = os.environ.get(FAIL_ENV)
    if fail:
        _fail(name, fail)
    if _TARGET is None or _TARGET[0] != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == _TARGET[1]:
        os.kill(os.getppid(), signal.SIGKILL)
        signal.pause()   # until the kernel delivers our own death (PR_SET_PDEATHSIG)


def _fail(name: str, spec: str) -> None:
    point, _, what = spec.partition(":")
    if point != name:
        return
    if what == "bug":
        raise RuntimeError(f"injected failure at {name}")
    if what in ("SIGINT", "SIGTERM"):
        os.kill(os.getpid(), getattr(signal, what))
        return
    code = getattr(errno, what)
    raise OSError(code, os.strerror(code), f"(injected at {name})")
