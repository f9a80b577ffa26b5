from __future__ import annotations

import pytest

from kartoteka.core.actor import Actor


@pytest.fixture
def counterparties(table):
    return table("counterparties")


@pytest.fixture
def importer(manager_user):
    return Actor.for_user(manager_user, source="form")
