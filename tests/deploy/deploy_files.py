"""Where the deployment files are, and how the offline checks read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from pipeline.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    return yaml.safe_load(path.read_text())


def load_yaml_documents(path: Path) -> list[Any]:
    """Every non-empty document of a multi-document YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def setting_names() -> set[str]:
    """Every ``RISKWATCH_*`` variable the settings read: each field, and ``<GROUP>_<FIELD>`` of
    each nested group (``RISKWATCH_ALERTMANAGER_URL``, ``RISKWATCH_KAFKA_SASL_MECHANISM``)."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"RISKWATCH_{name.upper()}")
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            names |= {f"RISKWATCH_{name.upper()}_{sub.upper()}" for sub in group.model_fields}
    return names
