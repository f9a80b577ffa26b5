"""drf-spectacular hooks: a record is the system columns plus one property per field key."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

#: Components whose objects also carry a table's fields by key.
OPEN_COMPONENTS = ("Record", "RecordValues")

DESCRIPTIONS = {
    "Record": "Запись: id, поля таблицы по ключам (см. GET /api/v1/tables/), системные поля.",
    "RecordValues": 'Значения полей по ключам, например {"name": "Ромашка", "status": "cold"}.',
}


def open_records(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Mark records as open objects: their fields are data (``GET /api/v1/tables/``)."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in OPEN_COMPONENTS:
        if name in schemas:
            schemas[name]["additionalProperties"] = True
            schemas[name].setdefault("description", DESCRIPTIONS[name])
    return result


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ``Authorization: Token <token>`` in the schema's security schemes."""

    target_class = "kartoteka.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "«Token <токен>»: токен из профиля или `kartoteka token create`.",
        }
