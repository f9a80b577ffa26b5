"""What a column's name means, the way offices name columns, and what a row says without saying.

- :func:`squash` is the form headers are matched in: case, «ё», punctuation and spaces ignored
  («Эл. почта», «эл.почта» and «ЭЛ ПОЧТА» are one name).
- :data:`SYNONYMS` are the names files give the usual fields besides their label and key
  («Наименование», «Организация», «Клиент» are the name; «Тел.», «Моб. телефон» the phone).
- :func:`infer_kind` tells a legal entity, an individual entrepreneur and a person apart by the
  INN's length and the name («ИП …», «ООО …»), for a table whose «Вид» the file does not fill.
"""

from __future__ import annotations

import re

from kartoteka.tables.fieldtypes.choice import fold

#: Field key → other names of the column (matched squashed).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "Наименование",
        "Полное наименование",
        "Краткое наименование",
        "Наименование организации",
        "Название организации",
        "Организация",
        "Компания",
        "Клиент",
        "Контрагент",
        "Покупатель",
        "Фирма",
    ),
    "phone": (
        "Тел.",
        "Тел",
        "Моб. телефон",
        "Мобильный телефон",
        "Мобильный",
        "Телефон 1",
        "Телефон 2",
        "Контактный телефон",
        "Номер телефона",
        "Phone",
    ),
    "email": ("Эл. почта", "Электронная почта", "Почта", "E-mail", "Email", "Mail", "Емейл"),
    "inn": ("ИНН организации", "ИНН контрагента", "ИНН/КПП"),
    "address": ("Юридический адрес", "Юр. адрес", "Фактический адрес", "Почтовый адрес"),
    "city": ("Населённый пункт", "Город доставки"),
    "website": ("Веб-сайт", "Web", "WWW", "URL"),
}

#: The «Вид» field's options an inference may set.
KINDS = ("legal", "entrepreneur", "person")
_ENTREPRENEUR = re.compile(r"^(ип|индивидуальный предприниматель)\b", re.IGNORECASE)
_LEGAL = re.compile(r"^(ооо|оао|зао|пао|ао|нко|ано|гуп|муп|фгуп|тоо|llc|ltd)\b", re.IGNORECASE)


def squash(text: str) -> str:
    """``text`` folded (case, «ё») with its punctuation and spaces left out."""
    return re.sub(r"[\W_]+", "", fold(text or ""))


def infer_kind(inn: object, name: object) -> str | None:
    """``legal``, ``entrepreneur`` or ``person`` from the INN and the name; None if unsure."""
    digits = str(inn or "").strip()
    title = " ".join(str(name or "").replace("«", " ").replace('"', " ").split())
    if _ENTREPRENEUR.match(title):
        return "entrepreneur"
    if digits.isdigit() and len(digits) == 10:
        return "legal"
    if _LEGAL.match(title):
        return "legal"
    if digits.isdigit() and len(digits) == 12:
        return "person"
    return None
