"""pytest collects doctests from the packages too; ``python -m pipeline`` is not a module to import."""

collect_ignore = ["pipeline/__main__.py"]
