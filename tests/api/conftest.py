"""API clients that authenticate by personal tokens, as integrators do."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from kartoteka.api.tokens import create_token
from kartoteka.core.actor import Actor


def token_client(user, name: str = "tests") -> APIClient:
    created = create_token(Actor.system("tests"), user, name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.secret}")
    client.token = created.token  # type: ignore[attr-defined]
    client.secret = created.secret  # type: ignore[attr-defined]
    return client


@pytest.fixture
def api(admin_user):
    """A client of the administrator's token."""
    return token_client(admin_user)


@pytest.fixture
def manager_api(manager_user):
    return token_client(manager_user)
