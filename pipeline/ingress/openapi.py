"""The OpenAPI 3.1 description of ``POST /ingest/{kind}``, built from the pipeline's own schemas.

Request bodies are the JSON Schemas pydantic derives from the event models,
so the description cannot drift from what the handler accepts.

>>> spec = ingest_openapi()
>>> sorted(spec["paths"]["/ingest/{kind}"]["post"]["responses"])
['202', '400', '401', '403', '404', '413', '415', '422']
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from pipeline.ingress.http_ingest import INGEST_KINDS, JSON_CONTENT_TYPE
from pipeline.ingress.senml import SENML_CONTENT_TYPE
from schemas.events import Event

_ITEM_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["index", "status"],
    "properties": {
        "index": {"type": ["integer", "null"], "description": "Item index; null means the whole body."},
        "status": {"enum": ["accepted", "rejected"]},
        "event_id": {"type": "string"},
        "reason_class": {"type": "string"},
        "reason": {"type": "string"},
    },
}
_RESULTS: dict[str, Any] = {
    "type": "object",
    "required": ["accepted", "rejected", "items"],
    "properties": {
        "accepted": {"type": "integer", "minimum": 0},
        "rejected": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": _ITEM_RESULT},
    },
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_SENML_RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        name: {"type": kind}
        for name, kind in {
            "bn": "string",
            "bt": "number",
            "bu": "string",
            "bv": "number",
            "n": "string",
            "u": "string",
            "v": "number",
            "t": "number",
        }.items()
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {JSON_CONTENT_TYPE: {"schema": schema}}}


def ingest_openapi() -> dict[str, Any]:
    """The OpenAPI document of the ingest endpoint."""
    event = TypeAdapter(Event).json_schema(ref_template="#/components/schemas/{model}")
    definitions = event.pop("$defs", {})
    definitions["Event"] = event
    one_or_many = {
        "oneOf": [
            {"$ref": "#/components/schemas/Event"},
            {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "minItems": 1},
        ]
    }
    operation = {
        "summary": "Ingest one event or a batch of events of one community",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "kind", "in": "path", "required": True, "schema": {"enum": list(INGEST_KINDS)}},
            {
                "name": "community",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Community of a SenML pack (required for SenML).",
            },
            {
                "name": "device",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Device of a SenML pack, overriding the record names.",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                JSON_CONTENT_TYPE: {"schema": one_or_many},
                SENML_CONTENT_TYPE: {"schema": {"type": "array", "items": _SENML_RECORD, "minItems": 1}},
            },
        },
        "responses": {
            "202": {"description": "At least one event accepted; per-item results", **_json(_RESULTS)},
            "400": {"description": "The body is not JSON, not events, or an empty batch", **_json(_RESULTS)},
            "401": {"description": "Missing or unknown bearer token", **_json(_ERROR)},
            "403": {"description": "The token may not publish for this community", **_json(_ERROR)},
            "404": {"description": "Unknown event kind", **_json(_ERROR)},
            "413": {"description": "Body or batch too large", **_json(_RESULTS)},
            "415": {"description": "Unsupported media type", **_json(_ERROR)},
            "422": {"description": "Events, but every one was rejected: per-item reasons", **_json(_RESULTS)},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "riskwatch ingest", "version": "1"},
        "paths": {"/ingest/{kind}": {"post": operation}},
        "components": {
            "schemas": definitions,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
