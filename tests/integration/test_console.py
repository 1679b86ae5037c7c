"""The live console over HTTP: a warning arrives on the event stream; feedback reaches its topic."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import urllib.request
from typing import Any

from kafka import KafkaProducer

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.topics import TopicNames
from pipeline.worker_process import WorkerProcess
from schemas import Feedback, FeedbackAction, RiskWarning
from tests.integration.conftest import publish, read_until
from tests.integration.test_end_to_end import readings


class EventStream:
    """Reads ``/api/stream`` over a plain socket in a thread, collecting (event, data) pairs.

    A socket (not urllib) so that closing is immediate: urllib's close waits for the
    next bytes of a chunked response. Each SSE frame is written in one chunk, so its
    ``event:``/``data:`` lines arrive whole between the chunk-size lines we skip.
    """

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.events: list[tuple[str, Any]] = []
        self.changed = threading.Condition()
        self._socket = socket.create_connection((host, int(port)), timeout=30)
        self._socket.sendall(f"GET /api/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = ""
        with contextlib.suppress(OSError), self._socket.makefile("rb") as lines:
            for raw in lines:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    with self.changed:
                        self.events.append((event, json.loads(line[6:])))
                        self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout_s: float = 30.0) -> tuple[str, Any]:
        with self.changed:
            assert self.changed.wait_for(lambda: any(predicate(e) for e in self.events), timeout_s), (
                self.events
            )
            return next(e for e in self.events if predicate(e))

    def close(self) -> None:
        self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_warning_arrives_live_and_an_acknowledgement_goes_to_the_feedback_topic(
    worker: WorkerProcess, broker: EmbeddedBroker, producer: KafkaProducer, topics: TopicNames
) -> None:
    with urllib.request.urlopen(f"{worker.base_url}/console", timeout=10) as page:
        assert page.headers["Content-Type"].startswith("text/html")
        assert b"riskwatch" in page.read()
    stream = EventStream(worker.base_url)
    try:
        stream.wait_for(lambda e: e[0] == "snapshot")
        rng = random.Random(5)
        publish(
            producer,
            topics.readings,
            "c-console",
            readings("c-console", [*(1.0 + rng.gauss(0, 0.005) for _ in range(60)), 1.3, 1.3, 1.3]),
        )
        _, data = stream.wait_for(lambda e: e[0] == "warning" and e[1]["community_id"] == "c-console")
    finally:
        stream.close()
    warning = RiskWarning.model_validate(data)
    with urllib.request.urlopen(f"{worker.base_url}/api/warnings", timeout=10) as response:
        assert warning.warning_id in {w["warning_id"] for w in json.load(response)["warnings"]}

    status, body = post(
        f"{worker.base_url}/api/warnings/{warning.warning_id}/feedback",
        {"action": "acknowledge", "operator": "duty officer Li", "comment": "on my way"},
    )
    assert status == 202, body
    assert (
        post(
            f"{worker.base_url}/api/warnings/{warning.warning_id}/feedback",
            {"action": "shrug", "operator": "x"},
        )[0]
        == 400
    )
    assert (
        post(
            f"{worker.base_url}/api/warnings/no-such-id/feedback", {"action": "acknowledge", "operator": "x"}
        )[0]
        == 404
    )

    def acknowledged(records: list[Any]) -> bool:
        return any(Feedback.model_validate_json(r.value).warning_id == warning.warning_id for r in records)

    [record] = [
        r
        for r in read_until(broker, topics.feedback, acknowledged)
        if Feedback.model_validate_json(r.value).warning_id == warning.warning_id
    ]
    feedback = Feedback.model_validate_json(record.value)
    assert (feedback.action, feedback.operator, feedback.comment) == (
        FeedbackAction.ACKNOWLEDGE,
        "duty officer Li",
        "on my way",
    )
    assert record.key == b"c-console"
