"""Shared fixtures: the built-in tables, users, and a clean model cache per test."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.tables.modelfactory import clear_model_cache
from tests.installs import drop_templates, run_tag
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
    # Names the run's installation templates (tests/installs.py) before xdist starts the workers,
    # which inherit it.
    run_tag()


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        drop_templates()


@pytest.fixture(autouse=True)
def _installation_language():
    # Django keeps the language a request activated for the rest of the thread; a test that
    # browsed in English must not leave the next test of the same worker in English.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


class _Baseline:
    """The models of the tables as every test's transaction starts with them (the synced CRM
    configuration), built once per session instead of once per test.

    ``saved`` is the pickled metadata they were built from. A test may change the metadata
    objects the models carry (a service handed a cached ``Field`` sets its label, a read fills a
    choices cache); after such a test its models are built again from ``saved`` — with no query,
    the database being back at the same state."""

    saved: bytes = b""
    models: dict[int, Any] | None = None
    metadata: Any = None
    fresh: bytes = b""

    @classmethod
    def take(cls) -> None:
        from kartoteka.tables.modelfactory import load_metadata

        cls.saved = pickle.dumps(load_metadata())
        cls.restore()

    @classmethod
    def restore(cls) -> None:
        from kartoteka.tables.modelfactory import DynamicApps, build_model

        tables, by_table = pickle.loads(cls.saved)
        registry = DynamicApps()
        cls.models = {t.pk: build_model(t, by_table.get(t.pk, []), registry) for t in tables}
        cls.metadata = (tables, by_table)
        cls.fresh = pickle.dumps(cls.metadata)

    @classmethod
    def intact(cls) -> bool:
        """Whether the models and the metadata objects they carry are as built."""
        assert cls.models is not None
        by_table = cls.metadata[1]
        return pickle.dumps(cls.metadata) == cls.fresh and all(
            list(map(id, model._kt_fields)) == list(map(id, by_table.get(pk, [])))
            for pk, model in cls.models.items()
        )


@pytest.fixture(autouse=True)
def _fresh_model_cache(request):
    # Rolled-back tests can reuse table ids and versions: never trust a cache across tests. A
    # test starts with the session's baseline models, which match its database: a table whose
    # metadata the test (or its module's state) changes has a new ``schema_version``, and
    # ``model_for`` builds it afresh.
    from kartoteka.tables import modelfactory

    uses_db = "_django_db_helper" in request.fixturenames or request.node.get_closest_marker(
        "django_db"
    )
    if uses_db and _Baseline.models is not None:
        with modelfactory._cache.lock:
            modelfactory._cache.models = dict(_Baseline.models)
    else:
        clear_model_cache()
    yield
    clear_model_cache()
    if uses_db and _Baseline.models is not None and not _Baseline.intact():
        _Baseline.restore()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the default CRM configuration, synced once per session;
    each test's transaction is rolled back, so every test sees it fresh."""
    from kartoteka.crm.setup import sync

    with django_db_blocker.unblock():
        sync()
        _Baseline.take()


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
