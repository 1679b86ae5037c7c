"""Warnings pushed to Alertmanager, the operators' paging stack.

:mod:`~pipeline.alerting.settings` is the configuration, :mod:`~pipeline.alerting.alerts`
turns warning events into Alertmanager alerts and keeps what is open (pure),
:mod:`~pipeline.alerting.outbox` holds what waits to be pushed (pure), and
:mod:`~pipeline.alerting.pusher` is the thin HTTP client the worker runs in the background.
"""
