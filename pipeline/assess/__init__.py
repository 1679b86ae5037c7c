"""Tiered warnings, decided without Faust: fusion, tier ladder, episodes, silences, routing, CAP.

The worker calls one object, :class:`pipeline.assess.assessor.Assessor`, and
sends what comes back:

* ``observe(SourceSignal)`` for every scored reading, device-health finding and
  classified report; ``act(Feedback)`` for every operator action;
  ``tick()`` from a timer. Each returns an ``AssessmentOutput``: warning events
  (``event.warning`` is the :class:`~schemas.warning.RiskWarning` revision for
  ``riskwatch.warnings``), routed or suppressed notifications, device-fault
  notices and false-alarm feedback for the detectors.
* ``export_state()`` / ``Assessor(config, clock, state)`` checkpoint and
  restore everything as JSON-able data.
* :func:`pipeline.assess.cap.render_cap` renders any event as CAP 1.2;
  :func:`pipeline.assess.review.episode_review` rebuilds an episode's timeline
  from its revisions.

Modules: ``tiers`` (the ladder), ``fusion``, ``episodes`` (lifecycle and
notices), ``silences`` (and inhibition), ``routing``, ``config``, ``assessor``,
``cap``, ``review``, ``conformance`` (``check_policy()``). Everything here is
pure: time comes from the inputs' event times or an injected
:class:`pipeline.clock.Clock`.
"""
