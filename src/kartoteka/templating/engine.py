"""The sandbox user-written templates run in: documents, and the bodies of letters and messages.

Templates are code written by users, so they run in Jinja's :class:`SandboxedEnvironment`,
narrowed further:

* no attribute or key starting with ``_`` (the road to ``__class__``, ``__globals__``…);
* no call of anything but the helpers (:data:`~kartoteka.templating.helpers.HELPERS`) and the
  template's own macros: ``''.upper()``, ``cycler.__init__``, ``x.save()`` are refused;
* no globals but the helpers: ``range``, ``lipsum``, ``cycler``, ``joiner``, ``namespace``,
  ``dict`` are gone, and names the context does not hold (``config``, ``request``, ``settings``)
  are refused, never printed as empty;
* a string or list repeated or a power raised past a few thousand is refused (memory).

:func:`check` is what a save runs: syntax, unknown names, forbidden attributes and calls, and a
render against a sample context, each problem with its line and name. :func:`render` refuses
the same things at run time with :class:`TemplateRefused`.
"""

from __future__ import annotations

import datetime as dt
import traceback
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2 import meta as jinja_meta
from jinja2.exceptions import (
    SecurityError,
    TemplateAssertionError,
    TemplateError,
    UndefinedError,
)
from jinja2.runtime import Macro
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from kartoteka.core.exceptions import KartotekaError
from kartoteka.tables.fieldtypes.numbers import format_decimal
from kartoteka.templating.helpers import HELPERS, short_date

TEMPLATE_NAME = "<template>"
MAX_REPEAT = 10_000
MAX_POWER = 1_000
#: Names Jinja itself gives every template that lead out of the data.
FORBIDDEN_NAMES = frozenset({"self"})

#: Jinja's own filters a template may use (all of them pure functions of their arguments).
SAFE_FILTERS = (
    "abs",
    "batch",
    "capitalize",
    "center",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "slice",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
    "wordwrap",
)


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: where (line, 0 when unknown), which name, and why."""

    line: int
    name: str
    message: str

    def __str__(self) -> str:
        if self.line:
            return _("Строка %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


class TemplateRefused(KartotekaError):
    """A template was refused: a syntax error, an unknown name, a forbidden attribute or call,
    or a failure while rendering. ``problems`` say where and what."""

    code = "template_refused"

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


class _Undefined(StrictUndefined):
    """Any use of a name or field the context lacks fails, with a message naming it."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        if self._undefined_obj is missing:
            return _("неизвестное имя «%(name)s»") % {"name": name}
        owner = getattr(self._undefined_obj, "_path", "") or type(self._undefined_obj).__name__
        return _("у «%(owner)s» нет поля «%(name)s»") % {"owner": owner, "name": name}


def _finalize(value: Any) -> Any:
    """How a bare ``{{ value }}`` prints: empty for nothing, Russian numbers and dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Да") if value else _("Нет")
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
        return format_decimal(value, places)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value.tzinfo else value
    if isinstance(value, dt.date):
        return short_date(value)
    return value


class Sandbox(SandboxedEnvironment):
    """The narrowed sandbox (see the module's text)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=_Undefined,
            finalize=_finalize,
            keep_trailing_newline=True,
            trim_blocks=False,
        )
        self.globals.clear()
        self.globals.update(HELPERS)
        kept = {name: self.filters[name] for name in SAFE_FILTERS}
        self.filters.clear()
        self.filters.update(kept)
        self.filters.update(HELPERS)
        self._helpers = frozenset(id(f) for f in HELPERS.values())

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or not super().is_safe_attribute(obj, attr, value):
            return False
        # A method or a function reached through an attribute could be called: data only.
        return not isinstance(
            value, types.MethodType | types.BuiltinMethodType | types.FunctionType | type
        )

    def wrap_str_format(self, value: Any) -> None:
        return None  # ``str.format`` is a method like any other: refused

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        return self.undefined(
            _("обращение к «%(name)s» запрещено") % {"name": attribute},
            name=attribute,
            obj=obj,
            exc=SecurityError,
        )

    def is_safe_callable(self, obj: Any) -> bool:
        return id(obj) in self._helpers or isinstance(obj, Macro)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not __self.is_safe_callable(__obj):
            raise SecurityError(_("вызывать можно только помощники шаблонов"))
        return __context.call(__obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_REPEAT
                ):
                    raise SecurityError(_("слишком длинное повторение"))
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_POWER:
            raise SecurityError(_("слишком большая степень"))
        return super().call_binop(context, operator, left, right)


@cache
def environment(*, html: bool) -> Sandbox:
    """The shared sandbox: ``html`` escapes values for HTML (documents, HTML letters)."""
    return Sandbox(autoescape=html)


def docx_environment() -> Sandbox:
    """A fresh sandbox for ``docxtpl`` (which switches XML escaping on in the environment)."""
    return Sandbox(autoescape=True)


def _line_of(exc: BaseException) -> int:
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return int(lineno)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == TEMPLATE_NAME]
    return frames[-1].lineno or 0 if frames else 0


def problem_of(exc: BaseException) -> TemplateProblem:
    line = _line_of(exc)
    if isinstance(exc, TemplateAssertionError):
        name = exc.message.split("'")[1] if exc.message and "'" in exc.message else ""
        return TemplateProblem(
            line, name, _("неизвестный фильтр или проверка «%(name)s»") % {"name": name}
        )
    if isinstance(exc, TemplateSyntaxError):
        return TemplateProblem(line, "", _("ошибка в записи шаблона: %(msg)s") % {"msg": exc})
    if isinstance(exc, SecurityError):
        return TemplateProblem(line, "", _("запрещено: %(msg)s") % {"msg": exc})
    if isinstance(exc, UndefinedError) and str(exc).startswith(_("обращение к")):
        return TemplateProblem(line, "", _("запрещено: %(msg)s") % {"msg": exc})
    if isinstance(exc, UndefinedError):
        name = str(exc).split("«")[-1].rstrip("»") if "«" in str(exc) else ""
        return TemplateProblem(line, name, str(exc))
    return TemplateProblem(line, "", _("ошибка при заполнении: %(msg)s") % {"msg": exc})


def _parse(env: Sandbox, source: str) -> nodes.Template:
    try:
        return env.parse(source, name=TEMPLATE_NAME)
    except TemplateSyntaxError as exc:
        raise TemplateRefused([problem_of(exc)]) from None


def static_problems(
    source: str, known: Iterable[str], *, env: Sandbox | None = None
) -> list[TemplateProblem]:
    """What can be told without rendering: syntax, names outside ``known`` (and the helpers),
    attributes or keys starting with ``_``, calls of anything but a helper or a macro."""
    env = env or environment(html=False)
    try:
        tree = _parse(env, source)
    except TemplateRefused as exc:
        return exc.problems
    problems: list[TemplateProblem] = []
    allowed = set(known) | set(HELPERS)
    try:
        undeclared = jinja_meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:  # an unknown filter or test
        return [problem_of(exc)]
    for node in tree.find_all(nodes.Name):
        if node.name in FORBIDDEN_NAMES:
            message = _("обращение к «%(name)s» запрещено") % {"name": node.name}
            problems.append(TemplateProblem(node.lineno, node.name, message))
        elif node.ctx == "load" and node.name in undeclared and node.name not in allowed:
            message = _("неизвестное имя «%(name)s»") % {"name": node.name}
            problems.append(TemplateProblem(node.lineno, node.name, message))
            undeclared.discard(node.name)
    for attr in tree.find_all(nodes.Getattr):
        if attr.attr.startswith("_"):
            message = _("обращение к «%(name)s» запрещено") % {"name": attr.attr}
            problems.append(TemplateProblem(attr.lineno, attr.attr, message))
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, str) and (const.value.startswith("_") or "._" in const.value):
            message = _("обращение к «%(name)s» запрещено") % {"name": const.value}
            problems.append(TemplateProblem(const.lineno, const.value, message))
    macros = {m.name for m in tree.find_all(nodes.Macro)}
    for call in tree.find_all(nodes.Call):
        target = call.node
        if isinstance(target, nodes.Name) and (target.name in HELPERS or target.name in macros):
            continue
        name = target.name if isinstance(target, nodes.Name) else getattr(target, "attr", "")
        message = _("вызов «%(name)s» запрещён: вызывать можно только помощники шаблонов") % {
            "name": name
        }
        problems.append(TemplateProblem(call.lineno, name, message))
    problems.sort(key=lambda p: p.line)
    return problems


@lru_cache(maxsize=64)
def _compiled(source: str, html: bool) -> Any:
    env = environment(html=html)
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused([problem_of(exc)]) from None


def render(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Fill the template ``source`` from ``context`` in the sandbox.

    Args:
        source: the template text (Jinja syntax: ``{{ record.name }}``, ``{% for … %}``).
        context: the names the template may use (see :mod:`kartoteka.templating.context`).
        html: escape values for HTML.

    Raises:
        TemplateRefused: a syntax error, an unknown name or field, a forbidden attribute or
            call, or any failure while filling; its ``problems`` give line and name.
    """
    problems = static_problems(source, context.keys(), env=environment(html=html))
    if problems:
        raise TemplateRefused(problems)
    return render_unchecked(_compiled(source, html), context)


def render_unchecked(template: Any, context: Mapping[str, Any]) -> str:
    """Render a compiled sandbox template (one that passed :func:`static_problems`)."""
    try:
        return str(template.render(dict(context)))
    except (TemplateError, ArithmeticError, ValueError, TypeError) as exc:
        raise TemplateRefused([problem_of(exc)]) from None


def check(source: str, sample: Mapping[str, Any], *, html: bool = False) -> list[TemplateProblem]:
    """Every problem of ``source`` against a sample context (empty list: the template is good).

    ``sample`` holds every name a real context will (see
    :func:`kartoteka.templating.context.sample_context`), with one row in each list so loop
    bodies run too."""
    problems = static_problems(source, sample.keys(), env=environment(html=html))
    if problems:
        return problems
    try:
        render_unchecked(_compiled(source, html), sample)
    except TemplateRefused as exc:
        return exc.problems
    return []
