"""What goes into the index and what a query looks for, normalised the same way on both sides.

Text is compared after :func:`normalize`: Unicode NFKC, case folded, «ё» written as «е», runs of
whitespace made one space. Folding in Python rather than in SQL is what makes search
case-insensitive for Cyrillic on SQLite (whose ``LIKE`` and ``lower()`` only know ASCII) and lets
both databases use a plain substring index.

Phones are stored as E.164 (``+79123456789``); the index holds their digits (``79123456789``).
A query word that looks like a piece of a phone number is looked up by its digits too, and
neighbouring number-like words are read together as one number (``8 (912) 345-67-89``). The
domestic ways of writing a Russian number are turned into the indexed form on the query side —
a whole number loses its ``8``/``7`` trunk prefix, a run that starts with ``8`` is also tried
with ``7`` — so the index stores one form per phone, not three.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kartoteka.tables.models import Field

_SPACE = re.compile(r"\s+")
_NON_DIGIT = re.compile(r"\D")
#: A word that may be a piece of a phone number: «8», «(912)», «345-67-89», «+7».
_PHONE_PIECE = re.compile(r"^[+(]*\d[\d()\-.]*$")
#: Fewer digits than this are not read as a number on their own («12-3» stays text).
MIN_DIGITS = 3
#: A number is a record id only if it fits the id column.
MAX_ID_DIGITS = 18


def normalize(text: str) -> str:
    """Text as the index stores it and queries look for it."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return _SPACE.sub(" ", text).strip()


def _digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


def phone_digits(value: str) -> str:
    """The digits under which a stored (E.164) phone is indexed: ``+79123456789`` → ``79…``."""
    return _digits(value)


def _number_alternatives(digits: str) -> list[tuple[str, ...]]:
    """How a run of typed digits may occur in the index.

    Eleven digits with a trunk prefix (``8 912 345-67-89``, ``+7 912…``) are looked up without it;
    a shorter run starting with ``8`` may be the start of a Russian number written the domestic
    way (``8 912 34``), which the index holds as ``7912…``.
    """
    if len(digits) == 11 and digits[0] in "78":
        return [(digits[1:],)]
    if digits[0] == "8":
        return [(digits,), ("7" + digits[1:],)]
    return [(digits,)]


def index_text(fields: Sequence[Field], values: Sequence[Any]) -> str:
    """The index text of a record from the values of its searchable ``fields`` (same order);
    ``""`` when there is nothing to find."""
    parts: list[str] = []
    for field, value in zip(fields, values, strict=True):
        if value is None or value == "":
            continue
        if field.type == "phone":
            parts.append(phone_digits(str(value)))
        else:
            text = normalize(str(value))
            if text:
                parts.append(text)
    return " ".join(parts)


@dataclass(frozen=True)
class Term:
    """One thing a record must match: any of ``alternatives``, each a set of substrings that
    must all occur in the record's text, or — when ``record_id`` is set — being that record."""

    alternatives: tuple[tuple[str, ...], ...]
    record_id: int | None = None


def _groups(words: list[str]) -> list[list[str]]:
    """Words of a query; neighbouring number-like words stay together (a phone with spaces)."""
    groups: list[list[str]] = []
    for word in words:
        if _PHONE_PIECE.match(word) and groups and _PHONE_PIECE.match(groups[-1][-1]):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _unique(items: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    seen: dict[tuple[str, ...], None] = {}
    for item in items:
        needles = tuple(dict.fromkeys(n for n in item if n))
        if needles:
            seen.setdefault(needles, None)
    return tuple(seen)


def _word_term(word: str) -> Term:
    alternatives: list[tuple[str, ...]] = [(normalize(word),)]
    if _PHONE_PIECE.match(word):
        digits = _digits(word)
        if len(digits) >= MIN_DIGITS:
            alternatives.extend(_number_alternatives(digits))
    record_id = int(word) if word.isdigit() and len(word) <= MAX_ID_DIGITS else None
    return Term(_unique(alternatives), record_id)


def _number_term(words: list[str]) -> Term:
    """Several number-like words: each of them somewhere, or all their digits as one number."""
    alternatives: list[tuple[str, ...]] = [tuple(normalize(w) for w in words)]
    digits = _digits("".join(words))
    if len(digits) >= MIN_DIGITS:
        alternatives.extend(_number_alternatives(digits))
    return Term(_unique(alternatives))


def parse_query(text: str) -> list[Term]:
    """The terms of a query; a record matches when it matches every term."""
    terms = []
    for group in _groups(text.split()):
        term = _word_term(group[0]) if len(group) == 1 else _number_term(group)
        if term.alternatives:  # a word that normalises to nothing asks for nothing
            terms.append(term)
    return terms
