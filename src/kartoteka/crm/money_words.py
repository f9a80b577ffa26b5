"""Amounts in words («сумма прописью») for invoices: ``Одна тысяча двести рублей 50 копеек``.

The customary Russian form writes the roubles in words, capitalised, and the kopecks as two
digits with the noun agreeing with them. ``num2words`` (``lang="ru"``) writes the number
correctly — including the feminine «одна/две тысячи» and the plural forms of «тысяча»,
«миллион», «миллиард» — but its ``to="currency"`` mode is unusable here: it reads an integer
argument as kopecks (``1000`` → «десять рублей») and writes the kopecks in words. So only the
whole roubles go through ``num2words``; the nouns «рубль»/«копейка» are declined here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

KOPECK = Decimal("0.01")

RUBLE_FORMS = ("рубль", "рубля", "рублей")
KOPECK_FORMS = ("копейка", "копейки", "копеек")


def plural_form(number: int, forms: tuple[str, str, str]) -> str:
    """The Russian noun form agreeing with ``number``: 1 рубль, 2 рубля, 5 рублей, 11 рублей."""
    number = abs(number)
    if 11 <= number % 100 <= 14:
        return forms[2]
    last = number % 10
    if last == 1:
        return forms[0]
    if 2 <= last <= 4:
        return forms[1]
    return forms[2]


def amount_in_words(amount: Decimal) -> str:
    """Write a sum of money in roubles the way a Russian invoice does.

    Args:
        amount: the sum; it is rounded to kopecks (half up). Never a float.

    Returns:
        e.g. ``Decimal("1200.50")`` → ``"Одна тысяча двести рублей 50 копеек"``,
        ``Decimal("0.05")`` → ``"Ноль рублей 05 копеек"``.
    """
    if not isinstance(amount, Decimal):
        raise TypeError("amount_in_words() takes a Decimal")
    value = amount.quantize(KOPECK, rounding=ROUND_HALF_UP)
    sign = "минус " if value < 0 else ""
    kopecks_total = int(abs(value) * 100)
    rubles, kopecks = divmod(kopecks_total, 100)
    words = f"{sign}{num2words(rubles, lang='ru')}"
    text = (
        f"{words} {plural_form(rubles, RUBLE_FORMS)} "
        f"{kopecks:02d} {plural_form(kopecks, KOPECK_FORMS)}"
    )
    return text[0].upper() + text[1:]
