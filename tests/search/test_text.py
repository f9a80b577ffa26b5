"""Normalisation and query parsing: the two sides of the index agree."""

from __future__ import annotations

import pytest

from kartoteka.search.text import Term, normalize, parse_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ООО «Ромашка»", "ооо «ромашка»"),
        ("Королёв  ЁЛКИ\n\tпалки", "королев елки палки"),
        ("STRASSE Straße", "strasse strasse"),
        ("Е\u0308ж", "еж"),  # «ё» written as «е» + combining diaeresis
    ],
)
def test_normalize_folds_case_yo_and_spaces(text, expected):
    assert normalize(text) == expected


def test_parse_reads_neighbouring_numbers_as_one_phone():
    # when
    terms = parse_query("Ромашка 8 (912) 345-67-89")
    # then
    assert terms == [
        Term((("ромашка",),)),
        Term((("8", "(912)", "345-67-89"), ("9123456789",))),
    ]


def test_parse_keeps_a_number_as_text_digits_and_record_id():
    assert parse_query("912-345") == [Term((("912-345",), ("912345",)))]
    assert parse_query("42") == [Term((("42",),), record_id=42)]
    assert parse_query("+79123456789") == [Term((("+79123456789",), ("9123456789",)))]


def test_parse_reads_a_leading_eight_as_the_russian_trunk_prefix():
    assert parse_query("8 912 34") == [
        Term((("8", "912", "34"), ("891234",), ("791234",))),
    ]
    assert parse_query("8(912)3456789") == [Term((("8(912)3456789",), ("9123456789",)))]


def test_parse_of_blank_text_is_empty():
    assert parse_query("  \t ") == []
