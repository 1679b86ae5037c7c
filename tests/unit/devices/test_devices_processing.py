"""A registered gauge is judged on its site's lines and people; an unregistered one on its type's."""

from __future__ import annotations

from pipeline.clock import ManualClock
from pipeline.devices.entry import DeviceEntry
from pipeline.metrics import PipelineMetrics
from pipeline.processing.processor import EventProcessor
from schemas import Tier
from schemas.hazard import Impact
from tests.unit.pipeline.test_processing import NOW, SETTINGS, message, quiet, readings, samples


def register(processor: EventProcessor, people: int = 0, device: str = "dev-1") -> None:
    entry = DeviceEntry.model_validate(
        {
            "device_id": device,
            "community_id": "c-1",
            "latitude": 30.2,
            "longitude": 120.1,
            "sensor_type": "water_level",
            "installed_at": "2025-04-01T00:00:00Z",
            "warning_line": 1.2,
            "guaranteed_line": 1.4,
            "people": people,
        }
    )
    processor.registry.apply(device.encode(), entry.model_dump_json().encode())


def processor() -> tuple[EventProcessor, PipelineMetrics]:
    metrics = PipelineMetrics()
    return EventProcessor(SETTINGS, metrics, ManualClock(NOW), None), metrics


def test_a_gauge_past_its_sites_warning_line_is_yellow_and_past_its_guaranteed_line_orange() -> None:
    worker, _ = processor()
    register(worker)
    rising = [*quiet(), 1.3, 1.3, 1.3, 1.5, 1.5, 1.5]
    warning, *later = worker.handle(message(readings("c-1", rising), "c-1")).warnings
    assert (warning.tier, warning.impact) == (Tier.III, Impact.MODERATE), "the same rise unregistered is IV"
    assert "limits" in warning.evidence[0].model, "the site's warning line is a limit of the gauge"
    assert [(w.tier, w.impact) for w in later] == [(Tier.II, Impact.SEVERE)]


def test_the_people_a_gauge_watches_over_raise_its_impact_one_step() -> None:
    worker, _ = processor()
    register(worker, people=600)
    [warning] = worker.handle(message(readings("c-1", [*quiet(), 1.3, 1.3, 1.3]), "c-1")).warnings
    assert (warning.tier, warning.impact) == (Tier.II, Impact.SEVERE)


def test_a_small_deviation_stays_blue_however_many_people_watch() -> None:
    worker, _ = processor()
    register(worker, people=5000)
    [warning] = worker.handle(message(readings("c-1", [*quiet(), 1.15, 1.15, 1.15]), "c-1")).warnings
    assert (warning.tier, warning.impact) == (Tier.IV, Impact.MINOR)


def test_unregistered_devices_are_counted_at_scrape_time() -> None:
    worker, metrics = processor()
    worker.handle(message(readings("c-1", quiet(5)), "c-1"))
    worker.handle(message(readings("c-1", quiet(5), device="dev-2"), "c-1"))
    assert samples(metrics)[("riskwatch_devices_unregistered", ())] == 2
    register(worker)
    assert samples(metrics)[("riskwatch_devices_unregistered", ())] == 1
    worker.registry.apply(b"dev-1", None)
    assert samples(metrics)[("riskwatch_devices_unregistered", ())] == 2
