"""The OpenAPI schema (drf-spectacular) and a documentation page rendered from it on the server.

The page needs no JavaScript and nothing from a CDN: it walks the same schema the ``schema/``
endpoint serves and, for a signed-in user, lists the tables and fields he may see — the part of
the contract that is data, not code.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from kartoteka.api.present import field_json
from kartoteka.core.actor import Actor
from kartoteka.records import selectors
from kartoteka.tables.modelfactory import fields_of

METHODS = ("get", "post", "put", "patch", "delete")


class SchemaView(SpectacularAPIView):
    """``GET /api/v1/schema/``: OpenAPI 3 (YAML, or JSON with ``?format=json``); public —
    it holds no data, only the shape of the API."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []


def _schema_text(value: Any) -> str:
    if isinstance(value, dict):
        if "$ref" in value:
            return value["$ref"].rsplit("/", 1)[-1]
        if value.get("type") == "array":
            return f"[{_schema_text(value.get('items', {}))}]"
        return str(value.get("type", "object"))
    return ""


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's operations in path order, flattened for the page."""
    out = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "type": _schema_text(p.get("schema", {})),
                            "description": p.get("description", ""),
                            "required": p.get("required", False),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "request": _schema_text(body.get("schema", {})) if body else "",
                    "responses": [
                        {
                            "status": code,
                            "description": response.get("description", ""),
                            "schema": _schema_text(
                                response.get("content", {})
                                .get("application/json", {})
                                .get("schema", {})
                            ),
                        }
                        for code, response in op.get("responses", {}).items()
                    ],
                }
            )
    return out


def docs(request: HttpRequest) -> HttpResponse:
    """``GET /api/v1/docs/``: the API's documentation page."""
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    tables = []
    if request.user.is_authenticated:
        actor = Actor.for_user(request.user, source="api")
        for table in selectors.list_tables(actor):
            tables.append(
                {
                    "key": table.key,
                    "label": table.label,
                    "fields": [field_json(f) for f in fields_of(table)],
                }
            )
    return render(
        request,
        "api/docs.html",
        {
            "info": schema.get("info", {}),
            "operations": operations(schema),
            "components": sorted(schema.get("components", {}).get("schemas", {}).items()),
            "tables": tables,
        },
    )
