"""What a Russian business document writes that a plain value does not: sums and numbers in
words, long dates, money with grouped thousands, a person's name in another case, initials.

Each helper takes the raw value a record holds (``Decimal``, ``date``, text, or ``None``) and
returns text; an empty value gives empty text, so a placeholder of an empty field never prints
«None». Names are declined with ``pytrovich`` (the Petrovich rules, which know surnames, given
names and patronymics and tell the gender from them); other words and phrases (a position:
«генеральный директор») with ``pymorphy3``. Templates call them as filters
(``{{ record.total|amount_words }}``) or as functions (``{{ amount_words(record.total) }}``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from num2words import num2words

from kartoteka.crm.money_words import amount_in_words
from kartoteka.tables.fieldtypes.numbers import format_decimal

MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)

#: Grammatical cases the name helpers know, by the name a template uses.
CASES = ("genitive", "dative", "accusative", "instrumental", "prepositional")
_PYMORPHY_CASE = {
    "genitive": "gent",
    "dative": "datv",
    "accusative": "accs",
    "instrumental": "ablt",
    "prepositional": "loct",
}
_PATRONYMIC = re.compile(r"(вич|вна|ична|инична|оглы|кызы)$", re.IGNORECASE)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value).replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"не число: «{value}»") from None


def amount_words(value: Any) -> str:
    """``128505`` → «Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек»."""
    number = _decimal(value)
    return "" if number is None else amount_in_words(number)


def number_words(value: Any) -> str:
    """``128`` → «сто двадцать восемь»; ``12,5`` → «двенадцать целых пять десятых»."""
    number = _decimal(value)
    if number is None:
        return ""
    if number == number.to_integral_value():
        return str(num2words(int(number), lang="ru"))
    return str(num2words(number, lang="ru"))


def money(value: Any) -> str:
    """``1234.5`` → «1 234,50» (a non-breaking space groups thousands)."""
    number = _decimal(value)
    return "" if number is None else format_decimal(number, 2)


def long_date(value: Any) -> str:
    """``2026-12-07`` → «7 декабря 2026 г.»"""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year} г."


def short_date(value: Any) -> str:
    """``2026-12-07`` → «07.12.2026»."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return str(value.strftime("%d.%m.%Y"))


def initials(full_name: Any) -> str:
    """«Иванов Иван Иванович» → «Иванов И. И.»; other shapes are kept as written."""
    text = "" if full_name is None else str(full_name)
    parts = text.split()
    if len(parts) not in (2, 3):
        return text.strip()
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:])])


@cache
def _petrovich() -> tuple[Any, Any]:
    from pytrovich.detector import PetrovichGenderDetector
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker(), PetrovichGenderDetector()


@cache
def _morph() -> Any:
    import logging

    import pymorphy3

    logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    return pymorphy3.MorphAnalyzer()


def decline_name(full_name: Any, case: str) -> str:
    """A person's full name in ``case`` (one of :data:`CASES`): «Иванов Иван Иванович» →
    «Иванова Ивана Ивановича» (genitive). Written «Фамилия Имя Отчество», or «Имя Отчество
    Фамилия» when the second word is a patronymic; a single word is taken as a surname."""
    from pytrovich.enums import Case, Gender, NamePart

    text = "" if full_name is None else " ".join(str(full_name).split())
    if not text or case not in CASES:
        return text
    parts = text.split(" ")
    if len(parts) > 3:
        return text
    roles: list[Any]
    if len(parts) == 3 and _PATRONYMIC.search(parts[1]) and not _PATRONYMIC.search(parts[2]):
        roles = [NamePart.FIRSTNAME, NamePart.MIDDLENAME, NamePart.LASTNAME]
    else:
        roles = [NamePart.LASTNAME, NamePart.FIRSTNAME, NamePart.MIDDLENAME][: len(parts)]
    named = dict(zip(roles, parts, strict=True))
    maker, detector = _petrovich()
    gender = detector.detect(
        firstname=named.get(NamePart.FIRSTNAME),
        lastname=named.get(NamePart.LASTNAME),
        middlename=named.get(NamePart.MIDDLENAME),
    )
    if gender is None:
        gender = Gender.ANDROGYNOUS
    target = Case[case.upper()]
    return " ".join(
        maker.make(role, gender, target, part) for role, part in zip(roles, parts, strict=True)
    )


def genitive(full_name: Any) -> str:
    """«Иванов Иван Иванович» → «Иванова Ивана Ивановича» (кого? — «в лице …»)."""
    return decline_name(full_name, "genitive")


def dative(full_name: Any) -> str:
    """«Иванов Иван Иванович» → «Иванову Ивану Ивановичу» (кому?)."""
    return decline_name(full_name, "dative")


def instrumental(full_name: Any) -> str:
    """«Иванов Иван Иванович» → «Ивановым Иваном Ивановичем» (кем?)."""
    return decline_name(full_name, "instrumental")


def decline(phrase: Any, case: str = "genitive") -> str:
    """A phrase such as a position in ``case``: «генеральный директор» → «генерального
    директора». The leading adjectives and the first noun in the nominative are declined; the
    words after that noun («по продажам», «ООО «Ромашка»») are kept as written."""
    text = "" if phrase is None else str(phrase)
    if not text.strip() or case not in CASES:
        return text
    grammeme = _PYMORPHY_CASE[case]
    out: list[str] = []
    words = text.split(" ")
    for index, word in enumerate(words):
        parse = _morph().parse(word)[0] if word else None
        if parse is None or "nomn" not in parse.tag:
            out.extend(words[index:])
            break
        inflected = parse.inflect({grammeme})
        new = inflected.word if inflected is not None else word
        out.append(_same_case(word, new))
        if parse.tag.POS == "NOUN":
            out.extend(words[index + 1 :])
            break
    return " ".join(out)


def _same_case(original: str, new: str) -> str:
    if original.isupper() and len(original) > 1:
        return new.upper()
    if original[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def capfirst(value: Any) -> str:
    """The text with a capital first letter: «сто рублей» → «Сто рублей»."""
    text = "" if value is None else str(value)
    return text[:1].upper() + text[1:]


#: Every helper by the name templates use; each is both a filter and a function.
HELPERS: dict[str, Callable[..., str]] = {
    "amount_words": amount_words,
    "number_words": number_words,
    "money": money,
    "long_date": long_date,
    "short_date": short_date,
    "initials": initials,
    "genitive": genitive,
    "dative": dative,
    "instrumental": instrumental,
    "decline": decline,
    "capfirst": capfirst,
}
