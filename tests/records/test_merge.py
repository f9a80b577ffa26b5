"""The merge policy shared by web forms (and later the import and the API upsert)."""

from __future__ import annotations

import pytest

from kartoteka.records.merge import merge_changes
from kartoteka.tables.modelfactory import fields_of


@pytest.fixture
def fields(table):
    return {f.key: f for f in fields_of(table("counterparties"))}


CURRENT = {
    "name": "Ромашка",
    "email": None,
    "city": "",
    "phone": "+79123456789",
    "no_mailing": False,
}


def test_keep_filled_only_fills_empty_fields(fields):
    incoming = {
        "name": "Другое имя",
        "email": "a@b.ru",
        "city": "Казань",
        "phone": None,
        "no_mailing": True,
    }
    assert merge_changes(fields, CURRENT, incoming) == {
        "email": "a@b.ru",
        "city": "Казань",
        "no_mailing": True,
    }


def test_overwrite_replaces_filled_values_but_never_blanks(fields):
    incoming = {"name": "Другое имя", "email": "", "phone": None, "city": "  "}
    assert merge_changes(fields, CURRENT, incoming, "overwrite") == {"name": "Другое имя"}


def test_equal_values_are_no_change(fields):
    assert merge_changes(fields, CURRENT, {"name": "Ромашка"}, "overwrite") == {}


def test_unknown_policy_is_refused(fields):
    with pytest.raises(ValueError, match="unknown merge policy"):
        merge_changes(fields, CURRENT, {}, "guess")
