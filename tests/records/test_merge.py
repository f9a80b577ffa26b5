"""The merge policy shared by the import, the API upsert and web forms."""

from __future__ import annotations

import pytest

from kartoteka.records.merge import fill_empty, merge_changes
from kartoteka.tables.modelfactory import fields_of


@pytest.fixture
def fields(table):
    return {f.key: f for f in fields_of(table("counterparties"))}


CURRENT = {
    "name": "Ромашка",
    "email": None,
    "city": "Казань",
    "phone": "+79123456789",
    "no_mailing": False,
}


def test_keep_filled_never_blanks_a_filled_value(fields):
    incoming = {
        "name": "Ромашка-2",
        "email": "a@b.ru",
        "city": None,
        "phone": "  ",
        "no_mailing": True,
    }
    assert merge_changes(fields, CURRENT, incoming) == {
        "name": "Ромашка-2",
        "email": "a@b.ru",
        "no_mailing": True,
    }


def test_overwrite_writes_empty_values_too(fields):
    incoming = {"name": "Ромашка", "city": None, "email": None}
    assert merge_changes(fields, CURRENT, incoming, "overwrite") == {"city": None}


def test_fill_empty_only_completes(fields):
    incoming = {"name": "Другое", "email": "a@b.ru", "city": "Тула", "no_mailing": True}
    assert fill_empty(fields, CURRENT, incoming) == {"email": "a@b.ru", "no_mailing": True}


def test_unknown_policy_is_refused(fields):
    with pytest.raises(ValueError, match="unknown merge policy"):
        merge_changes(fields, CURRENT, {}, "guess")
