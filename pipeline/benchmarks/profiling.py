"""``riskwatch bench pipeline --profile DIR``: a sampling profile of the loaded worker, from outside.

py-spy reads the worker's Python stacks through ptrace while it works, without
instrumenting it (``--nonblocking``: the worker is never paused to be sampled), so the
profile shows where the benchmarked process spends its time, Faust's consumer thread
included. One py-spy process writes one format; two record side by side: a flame graph
(SVG, for a glance in a browser) and a speedscope JSON (for https://www.speedscope.app,
time-ordered and per thread). Either stops on SIGINT and writes its file then.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.processes import ManagedProcess

PROFILE_FILES = {"flamegraph": "worker-flamegraph.svg", "speedscope": "worker-speedscope.json"}
"""py-spy's output format → the file written for it in the profile folder."""

SAMPLES_PER_S = 100
"""py-spy's default rate: enough samples over a throughput phase of tens of seconds."""


class ProfilerError(RuntimeError):
    """py-spy is missing, could not attach, or wrote no profile; the message says which."""


def py_spy() -> str:
    """The py-spy executable of this environment (installed by the project's dev extra)."""
    beside = Path(sysconfig.get_path("scripts")) / "py-spy"
    found = str(beside) if beside.is_file() else shutil.which("py-spy")
    if found is None:
        raise ProfilerError("py-spy is not installed: pip install -e '.[dev]' (or pip install py-spy)")
    return found


class PySpyRecording(ManagedProcess):
    """``py-spy record`` of process ``pid`` in one ``output_format``; SIGINT ends it and writes the file."""

    stop_signal = signal.SIGINT
    stop_timeout_s = 60.0
    """Writing a flame graph of a long run takes a few seconds on a loaded machine."""
    start_timeout_s = 30.0
    """How long attaching may take before py-spy says it samples."""
    SAMPLING = b"py-spy> Sampling process"
    """What py-spy prints once it has attached and handles SIGINT."""

    def __init__(self, pid: int, output_format: str, output: Path) -> None:
        self.pid = pid
        self.output_format = output_format
        self.output = output
        self.log = output.with_suffix(output.suffix + ".log")
        self.log_file = self.log
        super().__init__()

    def start(self) -> None:
        """Attach py-spy to the process."""
        argv = [
            py_spy(),
            "record",
            "--pid",
            str(self.pid),
            "--format",
            self.output_format,
            "--output",
            str(self.output),
            "--rate",
            str(SAMPLES_PER_S),
            "--nonblocking",
        ]
        with open(self.log, "wb") as log:
            self.popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        """Stop py-spy once it samples, so it writes its file; the phase need not wait for it."""
        try:
            if self._process is not None:
                self._await_sampling(self._process)
        finally:
            super().stop()

    def _await_sampling(self, process: subprocess.Popen[bytes]) -> None:
        """Return once py-spy samples: a SIGINT that comes while it is still attaching (a short
        phase, a loaded machine) ends it before its handler is set, and it writes no file. Waited
        for at the end, not at the start: the phase profiled starts as soon as its worker is ready
        and must not run ahead of the bench while py-spy attaches."""
        deadline = time.monotonic() + self.start_timeout_s
        while self.SAMPLING not in self.log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ProfilerError(f"py-spy did not sample process {self.pid}: {self.log_tail(1000)}")
            threading.Event().wait(0.05)  # polled: py-spy has no other way to say it is attached


@contextmanager
def profiled(pid: int, directory: Path | None) -> Iterator[list[Path]]:
    """Record process ``pid`` while the ``with`` body runs; the files written, once it is left.

    ``directory`` None records nothing (the list stays empty). A recorder that wrote no
    file raises :class:`ProfilerError` quoting py-spy's own words (no ptrace permission,
    the process gone).
    """
    if directory is None:
        yield []
        return
    directory.mkdir(parents=True, exist_ok=True)
    recordings = [PySpyRecording(pid, fmt, directory / name) for fmt, name in PROFILE_FILES.items()]
    written: list[Path] = []
    with ExitStack() as stack:
        for recording in recordings:
            stack.enter_context(recording)
        yield written
    for recording in recordings:
        if not recording.output.is_file():
            raise ProfilerError(f"py-spy wrote no {recording.output}: {recording.log_tail(1000)}")
        written.append(recording.output)
