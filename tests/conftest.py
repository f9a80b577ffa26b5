"""Shared fixtures: the built-in tables, users, and a clean model cache per test."""

from __future__ import annotations

from typing import Any

import pytest

from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.tables.modelfactory import clear_model_cache
from tests.mail import smtp_server

#: What the suite hashes passwords with. Argon2 costs tens of milliseconds a hash by design, and
#: fixtures make users in most tests; production keeps Argon2 (``kartoteka.config.settings``,
#: checked by ``tests/test_cli_contract.py`` and ``test_production_hashes_with_argon2``).
FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _installation_language():
    # Django keeps the language a request activated for the rest of the thread; a test that
    # browsed in English must not leave the next test of the same worker in English.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    # Rolled-back tests can reuse table ids and versions: never trust a cache across tests.
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the default CRM configuration, synced once per session;
    each test's transaction is rolled back, so every test sees it fresh."""
    from kartoteka.crm.setup import sync

    with django_db_blocker.unblock():
        sync()


@pytest.fixture
def crm(db):
    """The default CRM configuration (synced at session start; see ``django_db_setup``)."""
    return True


def _user(username: str, group: str, full_name: str) -> Any:
    """A user made through the accounts service, with its «Сотрудники» record and e-mail."""
    from kartoteka.accounts.services import create_user

    return create_user(
        Actor.system("test"),
        username=username,
        password="Xk2#pLq9!vR",
        group=group,
        full_name=full_name,
        email=f"{username}@example.ru",
    )


@pytest.fixture
def admin_user(crm):
    return _user("boss", ADMIN_GROUP, "Петров Пётр")


@pytest.fixture
def manager_user(crm):
    return _user("ivanov", MANAGERS_GROUP, "Иванов Иван")


@pytest.fixture
def accountant_user(crm):
    """A member of «Бухгалтерия»: sees everything, works with invoices, marks them paid."""
    from kartoteka.access.services import ACCOUNTING_GROUP

    return _user("buh", ACCOUNTING_GROUP, "Сидорова Анна")


@pytest.fixture
def accountant(accountant_user):
    return Actor.for_user(accountant_user)


@pytest.fixture
def admin(admin_user):
    return Actor.for_user(admin_user)


@pytest.fixture
def table(crm):
    """Look up a table by key: ``table("counterparties")``."""
    from kartoteka.tables.models import Table

    return lambda key: Table.objects.get(key=key)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django sends to it; yields its inbox."""
    yield from smtp_server(settings)
