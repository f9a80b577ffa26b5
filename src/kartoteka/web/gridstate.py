"""The grid's state as it travels in the query string: tab, search, sort, filters, page cursor.

Everything a grid shows is in its URL, so a filtered, sorted page can be bookmarked, shared,
reloaded, exported or bulk-edited with exactly the same rows. Filter conditions travel as aligned
lists ``ff`` (field), ``fo`` (operator), ``fv`` (value) and ``fv2`` (second value of "between");
per-column quick filters as ``qf_<field key>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict

from kartoteka.records.selectors import Condition
from kartoteka.tables.fieldtypes.base import VALUELESS_OPERATORS
from kartoteka.tables.models import Field

STATES = ("active", "archived", "deleted", "all")
TEXTUAL = {"text", "long_text", "email", "url", "phone", "multi_choice"}
RANGED = {"integer", "decimal", "money", "date", "datetime"}
_RANGE = re.compile(r"^\s*(.*?)\s*\.\.\s*(.*?)\s*$")


@dataclass
class GridState:
    state: str = "active"
    search: str = ""
    order: str = "-id"
    match: str = "all"
    conditions: list[Condition] = field(default_factory=list)
    quick: dict[str, str] = field(default_factory=dict)
    cursor: str = ""
    direction: str = "next"
    view: int | None = None

    @property
    def db_state(self) -> str | None:
        return None if self.state == "all" else self.state

    @property
    def filtered(self) -> bool:
        return bool(self.conditions or self.quick or self.search) or self.state != "active"

    def all_conditions(self, fields: dict[str, Field]) -> list[Condition]:
        return self.conditions + quick_conditions(self.quick, fields)

    def params(self, *, page: bool = False, **overrides: Any) -> list[tuple[str, str]]:
        """Query parameters of this state (without the page cursor unless ``page``)."""
        values: dict[str, Any] = {
            "state": self.state,
            "q": self.search,
            "o": self.order,
            "m": self.match,
            "view": self.view or "",
        }
        values.update(overrides)
        out = [(k, str(v)) for k, v in values.items() if v not in ("", None)]
        for cond in self.conditions:
            value, value2 = cond.value, ""
            if cond.op == "between" and isinstance(cond.value, list | tuple):
                value, value2 = cond.value
            out += [
                ("ff", cond.field),
                ("fo", cond.op),
                ("fv", str(value or "")),
                ("fv2", str(value2)),
            ]
        out += [(f"qf_{k}", v) for k, v in self.quick.items()]
        if page and self.cursor:
            out += [("cursor", self.cursor), ("dir", self.direction)]
        return out

    def query(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))


def parse_state(get: QueryDict) -> GridState:
    state = get.get("state", "active")
    fields = get.getlist("ff")
    ops = get.getlist("fo")
    values = get.getlist("fv")
    values2 = get.getlist("fv2")
    conditions = []
    for i, (key, op) in enumerate(zip(fields, ops, strict=False)):
        if not key or not op:
            continue
        value: Any = values[i] if i < len(values) else ""
        if op == "between":
            value = [value, values2[i] if i < len(values2) else ""]
        elif op in VALUELESS_OPERATORS:
            value = None
        elif op == "in":
            value = [v.strip() for v in str(value).split(",") if v.strip()]
        conditions.append(Condition(key, op, value))
    quick = {k[3:]: v.strip() for k, v in get.items() if k.startswith("qf_") and v.strip()}
    view = get.get("view", "")
    direction = get.get("dir", "next")
    return GridState(
        state=state if state in STATES else "active",
        search=get.get("q", "").strip(),
        order=get.get("o", "-id") or "-id",
        match="any" if get.get("m") == "any" else "all",
        conditions=conditions,
        quick=quick,
        cursor=get.get("cursor", ""),
        direction=direction if direction in ("next", "prev", "last") else "next",
        view=int(view) if view.isdigit() else None,
    )


def quick_conditions(quick: dict[str, str], fields: dict[str, Field]) -> list[Condition]:
    """A quick filter's text → a condition suited to the column's type.

    Text columns: "contains". Numbers and dates: ``a..b`` (between), ``>a``, ``<a``, ``a``.
    Choices, users, yes/no: "equals" the picked option. ``-`` means "empty".
    """
    out = []
    for key, text in quick.items():
        f = fields.get(key)
        if f is None:
            out.append(Condition(key, "eq", text))  # reported as an unknown field
            continue
        if text == "-":
            out.append(Condition(key, "empty"))
        elif f.type in TEXTUAL:
            out.append(Condition(key, "contains", text))
        elif f.type in RANGED:
            m = _RANGE.match(text)
            if m and m.group(1) and m.group(2):
                out.append(Condition(key, "between", [m.group(1), m.group(2)]))
            elif text[:2] in (">=", "<="):
                out.append(Condition(key, "gte" if text[0] == ">" else "lte", text[2:]))
            elif text[:1] in (">", "<"):
                out.append(Condition(key, "gt" if text[0] == ">" else "lt", text[1:]))
            else:
                out.append(Condition(key, "eq", text))
        else:
            out.append(Condition(key, "eq", text))
    return out
