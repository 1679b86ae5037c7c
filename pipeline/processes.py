"""Child processes we start and stop (the embedded broker, worker processes).

:class:`ManagedProcess` gives them one lifecycle: ``start`` in ``with``, and a
``stop`` that asks politely (SIGTERM), then firmly (SIGKILL).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self


def stop_process(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM ``process`` if it still runs, wait ``timeout_s``, then SIGKILL it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ManagedProcess:
    """Base of a wrapper around one child process; subclasses implement :meth:`start`."""

    stop_timeout_s: float = 5.0
    """How long :meth:`stop` waits after SIGTERM before SIGKILL."""
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

    def start(self) -> None:
        """Start the process (and set ``self._process``)."""
        raise NotImplementedError

    def stop(self) -> None:
        """SIGTERM the process, then SIGKILL it after :attr:`stop_timeout_s`."""
        if self._process is not None:
            stop_process(self._process, self.stop_timeout_s)
        self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
