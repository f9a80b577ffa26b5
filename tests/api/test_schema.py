"""The OpenAPI schema and the documentation page."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

PATHS = {
    "/api/v1/me/": {"get"},
    "/api/v1/tables/": {"get"},
    "/api/v1/tables/{table}/": {"get"},
    "/api/v1/tables/{table}/records/": {"get", "post"},
    "/api/v1/tables/{table}/records/{id}/": {"get", "patch", "delete"},
    "/api/v1/tables/{table}/records/upsert/": {"post"},
    "/api/v1/tables/{table}/records/{id}/documents/": {"post"},
    "/api/v1/tables/{table}/actions/{action}/": {"post"},
    "/api/v1/reports/funnel/": {"get"},
    "/api/v1/users/": {"get", "post"},
    "/api/v1/users/{id}/disable/": {"post"},
    "/api/v1/reports/{id}/data/": {"get"},
    "/api/v1/reports/query/": {"post"},
    "/api/v1/mailings/": {"get", "post"},
    "/api/v1/mailings/{id}/": {"get"},
    "/api/v1/mailings/{id}/start/": {"post"},
    "/api/v1/mailings/{id}/pause/": {"post"},
    "/api/v1/mailings/{id}/resume/": {"post"},
    "/api/v1/mailings/{id}/cancel/": {"post"},
}


def test_the_schema_generates_valid_without_warnings(crm, tmp_path):
    # when: drf-spectacular's own check, failing on any warning
    out = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", out
    )
    # then
    schema = json.loads(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()} == PATHS


def test_the_schema_endpoint_is_public(crm):
    # when
    response = APIClient().get("/api/v1/schema/?format=json")
    # then
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "Картотека API"
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "«Token <токен>»: токен из профиля или `kartoteka token create`.",
    }
    record = schema["components"]["schemas"]["Record"]
    assert record["additionalProperties"] is True
    assert set(record["properties"]) == {
        "id",
        "record_state",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
    }
    create = schema["paths"]["/api/v1/tables/{table}/records/"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "404", "409", "422"}
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}


def test_the_docs_page_without_and_with_a_session(admin_user):
    # when
    anonymous = Client().get("/api/v1/docs/")
    client = Client()
    client.force_login(admin_user)
    signed_in = client.get("/api/v1/docs/")
    # then
    assert anonymous.status_code == signed_in.status_code == 200
    page = anonymous.content.decode()
    for path in PATHS:
        assert f"<code>{path}</code>" in page
    assert "Authorization: Token &lt;токен&gt;" in page
    assert 'id="table-counterparties"' not in page
    own = signed_in.content.decode()
    assert 'id="table-counterparties"' in own
    assert "<code>status_before</code>" in own
    assert "<script" not in page.split("</head>")[1]
