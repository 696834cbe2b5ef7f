"""How many threads a hot path gives torch: chosen from the size of its work and the free cores.

Conventions
-----------
- Torch's intra-op pool (OpenMP) defaults to one thread per core and spins while it waits.
  On tiny operations (one tutorial network of 68 parameters) the threads cost more than they
  give, and when another program holds a core a spinning thread that waits for a descheduled
  one turns a one-second run into a minute. So each hot path asks :func:`choose_threads` for its
  count: one thread for tiny work; for larger work (a sweep's batched seeds, recogniser
  training, ``predict``) the cores this process may use (``os.sched_getaffinity``) less the ones
  other programs keep busy right now (``/proc/stat`` read 50 ms apart, less this process's own
  time), shared out among the ranks of a ``torchrun`` job on this machine
  (``LOCAL_WORLD_SIZE``).
- The user decides when they say so: ``CHORDSCOPE_THREADS``, else ``OMP_NUM_THREADS``, else
  ``MKL_NUM_THREADS`` (the usual variables), else a ``threads=`` argument where a command has
  one (``--threads``).
- :func:`using_threads` sets the count for a block and restores the previous one after it.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from .errors import ParameterError

__all__ = ["WORK", "usable_cores", "cpu_reading", "busy_cores", "choose_threads", "using_threads"]

#: Hot paths and whether their operations are large enough to share between threads.
WORK = {"tutorial": False, "sweep": True, "fit": True, "predict": True}
_ENV = ("CHORDSCOPE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """Return the number of cores this process may run on (its CPU affinity).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float, float] | None:
    """Return the machine's total and idle CPU time and this process's, in clock ticks."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
        with open("/proc/self/stat", encoding="ascii") as f:
            own = f.read().rsplit(")", 1)[1].split()  # after the command name
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields), idle, float(own[11]) + float(own[12])  # utime + stime


def cpu_reading():
    """Return a reading of the CPU counters, to pass later as ``busy_cores(since=...)``."""
    return _cpu_times()


def busy_cores(window: float = 0.05, *, since=None) -> float:
    """Return how many cores of the machine other programs keep busy now (0 where unknown).

    Two readings of ``/proc/stat`` ``window`` seconds apart, less what this process itself
    used meanwhile (``/proc/self/stat``: its own work and the thread pools that still spin after
    their last task). With ``since`` (a :func:`cpu_reading`), the first reading is that one and
    nothing waits: a hot path takes it before work of its own (reading audio) and pays nothing.
    """
    a = _cpu_times() if since is None else since
    if since is None:
        time.sleep(window)
    b = _cpu_times()
    if a is None or b is None or b[0] <= a[0]:
        return 0.0
    others = (b[0] - a[0]) - (b[1] - a[1]) - (b[2] - a[2])
    return max(0.0, others / (b[0] - a[0])) * (os.cpu_count() or 1)


def _from_environment() -> int | None:
    for name in _ENV:
        value = os.environ.get(name, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                raise ParameterError(f"{name}={value!r} must be a whole number") from None
            if n < 1:
                raise ParameterError(f"{name}={value!r} must be at least 1")
            return n
    return None


def choose_threads(work: str, threads: int | None = None, *, since=None) -> int:
    """Return the intra-op thread count for hot path ``work`` (see the module docs).

    Parameters
    ----------
    work : str  one of :data:`WORK`
    threads : int, optional  an explicit count (``--threads``); the environment still wins
    since : optional  a :func:`cpu_reading` taken earlier (see :func:`busy_cores`)

    Examples
    --------
    >>> choose_threads("tutorial", 3)
    3
    """
    if work not in WORK:
        raise ParameterError(f"work={work!r} must be one of {', '.join(WORK)}")
    env = _from_environment()
    if env is not None:
        return env
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ParameterError(f"threads={threads!r} must be a whole number >= 1")
        return threads
    if not WORK[work]:
        return 1
    share = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))  # torchrun ranks here
    cores = max(1, usable_cores() // share)
    return max(1, min(cores, round(cores - busy_cores(since=since) / share)))


@contextmanager
def using_threads(n: int):
    """Run the block with ``torch.set_num_threads(n)``; restore the previous count after it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield n
    finally:
        torch.set_num_threads(before)
