"""The API against its own OpenAPI schema, by schemathesis: generated requests to every operation
(a bounded number each) must bring no server error and no response the schema does not allow."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from kartoteka.api.tokens import create_token
from kartoteka.config.wsgi import application
from kartoteka.core.actor import Actor
from kartoteka.crm.spec import TABLES
from kartoteka.records.actions import table_actions
from kartoteka.records.services import create_records
from tests.builders import SYSTEM

EXAMPLES_PER_OPERATION = 15


def _schema() -> dict:
    """The served schema, with the table and action keys narrowed to real ones (the test's
    copy only: random keys would only ever meet 404)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    loaded = json.loads(OpenApiJsonRenderer().render(generated))
    real = {
        "table": [spec.key for spec in TABLES],
        "action": sorted({key.split(".")[1] for key in table_actions}),
    }
    for item in loaded["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in real:
                    parameter["schema"] = {"type": "string", "enum": real[parameter["name"]]}
    return loaded


def app(environ: dict, start_response: Any) -> list[bytes]:
    """The project's WSGI application, kept from closing the test's database connection at the
    end of each request (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            return list(response)
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(_schema())
schema.app = app


@pytest.fixture
def secret(admin_user, table):
    create_records(
        SYSTEM,
        table("counterparties"),
        [{"name": "Ромашка", "phone": "+79161234567"}, {"name": "Лютик", "status": "proposal"}],
    )
    return create_token(Actor.system("tests"), admin_user, "schemathesis").secret


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_to_its_schema(case, secret):
    case.call_and_validate(
        headers={"Authorization": f"Token {secret}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
