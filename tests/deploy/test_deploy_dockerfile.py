"""deploy/Dockerfile: slim Python 3.11, non-root, runtime dependencies only, health-checked worker.

No Docker engine (and so no BuildKit) runs in CI: the instructions are parsed and
checked against what the project needs. Building the image is covered by deploy/README.md.
"""

from __future__ import annotations

import json
import re
import tomllib

from deploy_files import DEPLOY, REPO_ROOT

from pipeline.config import Settings

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_every_stage_is_slim_python_311() -> None:
    bases = [args.split()[0] for op, args in instructions() if op == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", b) for b in bases), bases


def test_the_runtime_runs_as_a_non_root_user() -> None:
    users = [args for op, args in final_stage() if op == "USER"]
    assert users, "no USER: the worker would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}


def test_runtime_installs_the_project_without_dev_dependencies_or_sources() -> None:
    runtime = final_stage()
    installs = " ".join(args for op, args in runtime if op == "RUN")
    assert "pip install" in installs and "--no-index" in installs
    assert "[dev]" not in DOCKERFILE.read_text()
    assert not [args for op, args in runtime if op in {"COPY", "ADD"}], "sources stay in the build stage"


def test_the_build_context_holds_every_package_the_project_ships() -> None:
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    shipped = {pattern.rstrip("*") for pattern in packages["find"]["include"]}
    allowed = {
        line[1:].rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = {args.split()[0] for op, args in instructions() if op == "COPY"}
    assert shipped <= allowed and shipped <= copied
    assert {"pyproject.toml", "README.md"} <= allowed


def test_health_check_asks_the_worker_if_it_is_ready_on_its_configured_port() -> None:
    (check,) = [args for op, args in final_stage() if op == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert "/ready" in command[-1] and "RISKWATCH_WEB_PORT" in command[-1]


def test_entry_point_is_the_worker_and_configuration_is_by_environment() -> None:
    runtime = final_stage()
    entrypoint = [json.loads(args) for op, args in runtime if op == "ENTRYPOINT"]
    command = [json.loads(args) for op, args in runtime if op == "CMD"]
    assert entrypoint[-1] + command[-1] == ["riskwatch", "worker"]
    environment = " ".join(args for op, args in runtime if op == "ENV")
    set_names = set(re.findall(r"\b(RISKWATCH_[A-Z_]+)=", environment))
    assert set_names <= {f"RISKWATCH_{name.upper()}" for name in Settings.model_fields}
    assert "RISKWATCH_WEB_HOST=0.0.0.0" in environment, (
        "the health check and Prometheus reach it from outside"
    )
