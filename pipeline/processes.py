"""Child processes we start and stop (the embedded broker, worker processes).

:class:`ManagedProcess` gives them one lifecycle: ``start`` in ``with``, and a
``stop`` that asks politely (:attr:`ManagedProcess.stop_signal`), then firmly
(SIGKILL). Children are started by :meth:`ManagedProcess.popen`, which ties
them to this process: see :func:`die_with_parent` for why.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

_PR_SET_PDEATHSIG = 1
"""``prctl`` option from ``<linux/prctl.h>``: the signal a child gets when its parent dies."""


def die_with_parent(stop_signal: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` after which the kernel sends ``stop_signal`` to the child when we die.

    Why: a child outlives a parent that is killed (kill -9, the OOM killer) or that
    crashes before its cleanup runs. Tansu left behind keeps its port, so the next
    ``riskwatch broker`` cannot start. Linux's parent-death signal (``prctl
    PR_SET_PDEATHSIG``) is delivered whatever way the parent ends; cleanup code in the
    parent cannot be. It fires when the *thread* that started the child ends, so
    children are started from the main thread. libc is loaded here, in the parent: the
    forked child only makes the call. If the parent died before the call, nobody will
    send the signal, so the child sends it to itself. The child's disposition of
    ``stop_signal`` is reset to the default: one ignored here (a shell ignores SIGINT in
    its background jobs) would stay ignored across ``exec``. ``None`` (no such hook) off
    Linux.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        signal.signal(stop_signal, signal.SIG_DFL)
        prctl(_PR_SET_PDEATHSIG, int(stop_signal), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), stop_signal)

    return preexec


def stop_process(process: subprocess.Popen[bytes], stop_signal: signal.Signals, timeout_s: float) -> None:
    """Send ``stop_signal`` to ``process`` if it still runs, wait ``timeout_s``, then SIGKILL it."""
    if process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ManagedProcess:
    """Base of a wrapper around one child process; subclasses implement :meth:`start`."""

    stop_signal: signal.Signals = signal.SIGTERM
    """The signal that asks the process to stop: sent by :meth:`stop`, and by the kernel
    when this process dies (see :func:`die_with_parent`)."""
    stop_timeout_s: float = 5.0
    """How long :meth:`stop` waits after :attr:`stop_signal` before SIGKILL."""
    log_file: Path | None = None
    """Where the process writes its output, if anywhere."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the process's log, to quote when it fails."""
        if self.log_file is None:
            return "(no log)"
        try:
            return self.log_file.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def popen(self, argv: Sequence[str], **options: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` (``options`` go to ``Popen``) tied to this process, and keep it.

        The child gets a process group of its own, so a Ctrl-C at the terminal (SIGINT
        to the foreground group) reaches only us, and we stop our children in order (a
        worker flushes to a broker that is still there); :func:`die_with_parent` takes
        it down if we die without stopping it. Its stdin is closed: a background group
        that reads the terminal would be stopped by SIGTTIN.
        """
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=die_with_parent(self.stop_signal),
            **options,
        )
        return self._process

    def start(self) -> None:
        """Start the process (with :meth:`popen`)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Send :attr:`stop_signal`, then SIGKILL after :attr:`stop_timeout_s`."""
        if self._process is not None:
            stop_process(self._process, self.stop_signal, self.stop_timeout_s)
        self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
