"""The community simulator: realistic event streams, scripted incidents with ground truth, and drills.

* :mod:`~pipeline.simulation.devices` — how each sensor type behaves (level, daily cycle, noise, range);
* :mod:`~pipeline.simulation.reports` — residents' background reports and their texts;
* :mod:`~pipeline.simulation.incidents` — what an incident or a decoy does to devices and reports;
* :mod:`~pipeline.simulation.scenario` — the scenario file (JSON), validated;
* :mod:`~pipeline.simulation.planning` — building a drill scenario from a few numbers;
* :mod:`~pipeline.simulation.generator` — the deterministic event stream of a scenario;
* :mod:`~pipeline.simulation.encoding` — events as JSON text, fast;
* :mod:`~pipeline.simulation.truth` — ground truth: incidents and decoys anchored in time;
* :mod:`~pipeline.simulation.scorecard` — scoring warnings against ground truth (pure);
* :mod:`~pipeline.simulation.publishing` — sending the stream to Kafka, paced;
* :mod:`~pipeline.simulation.live` — an endless wall-clock feed for the demo;
* :mod:`~pipeline.simulation.drill` — a scenario through the real pipeline, scored.

Everything but ``publishing`` and ``drill`` is pure and needs no broker.
"""
