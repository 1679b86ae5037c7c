"""Report streams: bursts of resident reports, reporter credibility, report category from text.

* :mod:`detectors.reports.rate` — report rate per (community, category)
  against its learned baseline, scored as a Poisson tail;
* :mod:`detectors.reports.credibility` — how much a report weighs, by reporter
  role and track record, learning from operator feedback;
* :mod:`detectors.reports.classifier` — an online text classifier for the
  report category, bootstrapped from :mod:`detectors.reports.seed`.
"""
