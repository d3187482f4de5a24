"""The OpenAPI 3.1 documents of the Kit API and of the control plane, served as JSON and YAML."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Response, abort

from .jsonout import json_response

bp = Blueprint("docs", __name__, url_prefix="/openapi")

DOCUMENTS = {"kit-api": "kit-api.yaml", "control": "control.yaml"}


def document_text(name: str) -> str:
    return resources.files("sandbox.web").joinpath("openapi", DOCUMENTS[name]).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def document(name: str) -> dict[str, Any]:
    return yaml.safe_load(document_text(name))


@bp.get("/<name>.json")
def as_json(name: str) -> Response:
    """An OpenAPI document as JSON."""
    if name not in DOCUMENTS:
        abort(404)
    return json_response(document(name))


@bp.get("/<name>.yaml")
def as_yaml(name: str) -> Response:
    """An OpenAPI document as YAML."""
    if name not in DOCUMENTS:
        abort(404)
    return Response(document_text(name), mimetype="application/yaml")
