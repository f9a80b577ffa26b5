"""The REST API: thin generic views over the selectors and services, for every table.

A view reads the request, calls :mod:`kartoteka.records.selectors` (every read) or
:mod:`kartoteka.records.services` (every write) with the caller's :class:`Actor` (source
``api``), and shapes the answer (:mod:`kartoteka.api.present`). Access rights, rules, history
and the search index are theirs, so they hold here exactly as on the pages. Errors are mapped to
JSON in one place (:mod:`kartoteka.api.errors`); writes honour ``Idempotency-Key``
(:mod:`kartoteka.api.idempotency`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kartoteka.access import rights
from kartoteka.api import serializers as docs
from kartoteka.api.errors import ApiError
from kartoteka.api.idempotency import run_idempotent
from kartoteka.api.present import record_json, table_json, values_from_json
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.records import selectors, services
from kartoteka.records.actions import get_action, require_action, run_action
from kartoteka.records.paging import count_rows, decode_cursor, keyset_page
from kartoteka.records.upsert import KEEP_FILLED, upsert_records
from kartoteka.reports.funnel import MODE_PERIOD, compute_funnel
from kartoteka.reports.period import Period
from kartoteka.tables.fieldtypes.link import MAX_ID
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import STATE_ACTIVE, STATE_DELETED, STATES
from kartoteka.tables.models import Table

SOURCE = "api"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_UPSERT_ROWS = 10_000
#: Query parameters of the records list that are not field filters.
LIST_PARAMETERS = frozenset({"search", "ordering", "page_size", "cursor", "record_state"})
#: ``?field__op=value`` suffixes and the filter operators they mean.
LOOKUPS = {
    "eq": "eq",
    "ne": "ne",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "contains": "contains",
    "startswith": "startswith",
    "in": "in",
    "empty": "empty",
    "not_empty": "not_empty",
}
#: System columns a list may be filtered by, with the lookups they take.
SYSTEM_FILTERS = {
    "id": ("eq", "gt", "gte", "lt", "lte", "in"),
    "created_at": ("gt", "gte", "lt", "lte"),
    "updated_at": ("gt", "gte", "lt", "lte"),
}
SYSTEM_ORDERING = ("id", "created_at", "updated_at")

ERRORS = {
    400: OpenApiResponse(docs.ErrorSerializer, description="Неверные данные или параметры"),
    401: OpenApiResponse(docs.ErrorSerializer, description="Нет или неверный токен"),
    403: OpenApiResponse(docs.ErrorSerializer, description="Нет прав"),
    404: OpenApiResponse(docs.ErrorSerializer, description="Не найдено"),
}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(docs.ErrorSerializer, description="Конфликт (уникальное значение)"),
    422: OpenApiResponse(docs.ErrorSerializer, description="Запрещено бизнес-правилом"),
}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Запись с этим ключом выполняется один раз; повтор возвращает тот же ответ.",
)
TABLE = OpenApiParameter("table", OpenApiTypes.STR, OpenApiParameter.PATH, description="Ключ")
RECORD_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _has_nul(data: Any) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_nul(item) for item in data)
    return False


class ApiView(APIView):
    """Base of the API's views: the caller as an :class:`Actor`, tables by key."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A NUL character is never text a person wrote, and PostgreSQL refuses it in text
        # columns: refuse it here, in parameters and bodies, before it reaches a query.
        if _has_nul(dict(request.query_params.lists())):
            raise ApiError(_("Параметры запроса содержат символ NUL."), code="nul_character")
        if request.method in ("POST", "PUT", "PATCH"):
            request.body  # noqa: B018 — keeps the raw body readable for Idempotency-Key
            if _has_nul(request.data):
                raise ApiError(_("Тело запроса содержит символ NUL."), code="nul_character")

    def actor(self, source: str = SOURCE) -> Actor:
        return Actor.for_user(self.request.user, source=source)

    def table(self, key: str) -> Table:
        return selectors.get_table(self.actor(), key)

    def fields(self, table: Table) -> list[Any]:
        """The table's fields the caller may see: a hidden field is not in any answer."""
        return rights.visible_fields(self.actor(), table)

    def shown(self, table: Table, record: Any) -> dict[str, Any]:
        """A record as the caller may see it: visible fields, links to unreadable records
        emptied."""
        selectors.mask_unreadable_links(self.actor(), table, [record])
        return record_json(self.fields(table), record)


# -- me, tables ----------------------------------------------------------------------------------


class MeView(ApiView):
    @extend_schema(
        operation_id="me",
        summary="Текущий пользователь",
        responses={200: docs.MeSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        user = request.user
        group = user.groups.order_by("name").values_list("name", flat=True).first()
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "full_name": user_display(user),
                "group": group or "",
            }
        )


class TablesView(ApiView):
    @extend_schema(
        operation_id="tables_list",
        summary="Таблицы и их поля",
        responses={200: docs.TableSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        actor = self.actor()
        return Response(
            [table_json(t, rights.visible_fields(actor, t)) for t in selectors.list_tables(actor)]
        )


class TableView(ApiView):
    @extend_schema(
        operation_id="table_retrieve",
        summary="Одна таблица и её поля",
        parameters=[TABLE],
        responses={200: docs.TableSerializer, **ERRORS},
    )
    def get(self, request: Request, table: str) -> Response:
        found = self.table(table)
        return Response(table_json(found, self.fields(found)))


# -- records -------------------------------------------------------------------------------------


LIST_PARAMETERS_DOCS = [
    TABLE,
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Быстрый поиск: каждое слово — в любом поле."
    ),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        description="Ключ поля (или id, created_at, updated_at); «-» — по убыванию.",
    ),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description="Записей на странице, 1…1000 (50)."
    ),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Курсор из ссылки next."),
    OpenApiParameter(
        "record_state",
        OpenApiTypes.STR,
        enum=list(STATES),
        description="Состояние записей (active по умолчанию).",
    ),
]


class RecordsView(ApiView):
    @extend_schema(
        operation_id="records_list",
        summary="Записи таблицы",
        description=(
            "Фильтры: `?поле=значение`, `?поле__gte=`, `__lte`, `__gt`, `__lt`, `__ne`, "
            "`__contains`, `__startswith`, `__in=a,b`, `__empty=1`, `__not_empty=1`; также "
            "`id`, `created_at`, `updated_at`. Страницы по курсору: ссылка `next`."
        ),
        parameters=LIST_PARAMETERS_DOCS,
        responses={200: docs.RecordPageSerializer, **ERRORS},
    )
    def get(self, request: Request, table: str) -> Response:
        found = self.table(table)
        return Response(list_page(self.actor(), found, request))

    @extend_schema(
        operation_id="records_create",
        summary="Создать запись",
        parameters=[TABLE, IDEMPOTENCY],
        request=docs.RecordValuesSerializer,
        responses={201: docs.RecordSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, table: str) -> Response:
        def create() -> Response:
            found = self.table(table)
            record = services.create_record(self.actor(), found, values_from_json(request.data))
            record = selectors.get_record(self.actor(), found, record.pk)
            return Response(self.shown(found, record), status=status.HTTP_201_CREATED)

        return run_idempotent(request, create)


class RecordView(ApiView):
    def _record(self, found: Table, pk: int) -> Any:
        if pk > MAX_ID:
            raise NotFound(_("Запись №%(pk)s не найдена.") % {"pk": pk})
        return selectors.get_record(self.actor(), found, pk, include_deleted=False)

    @extend_schema(
        operation_id="records_retrieve",
        summary="Одна запись",
        parameters=[TABLE, RECORD_ID],
        responses={200: docs.RecordSerializer, **ERRORS},
    )
    def get(self, request: Request, table: str, pk: int) -> Response:
        found = self.table(table)
        return Response(self.shown(found, self._record(found, pk)))

    @extend_schema(
        operation_id="records_update",
        summary="Изменить поля записи",
        parameters=[TABLE, RECORD_ID, IDEMPOTENCY],
        request=docs.RecordValuesSerializer,
        responses={200: docs.RecordSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, table: str, pk: int) -> Response:
        def update() -> Response:
            found = self.table(table)
            self._record(found, pk)
            services.update_record(self.actor(), found, pk, values_from_json(request.data))
            return Response(self.shown(found, self._record(found, pk)))

        return run_idempotent(request, update)

    @extend_schema(
        operation_id="records_delete",
        summary="Удалить запись (в «Удалённые»; её можно восстановить)",
        parameters=[TABLE, RECORD_ID, IDEMPOTENCY],
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, table: str, pk: int) -> Response:
        def trash() -> Response:
            found = self.table(table)
            self._record(found, pk)
            services.trash_records(self.actor(), found, [pk])
            return Response(status=status.HTTP_204_NO_CONTENT)

        return run_idempotent(request, trash)


class UpsertView(ApiView):
    @extend_schema(
        operation_id="records_upsert",
        summary="Создать или обновить записи по ключевому полю",
        description=(
            "Строка, чьё значение ключа есть в таблице, обновляет запись; иначе создаёт новую. "
            "`keep_filled` — пустое значение не стирает заполненное; `overwrite` — пишется всё. "
            "Строки с ошибками не пишутся и перечислены в `errors`, остальные записываются."
        ),
        parameters=[TABLE, IDEMPOTENCY],
        request=docs.UpsertRequestSerializer,
        responses={200: docs.UpsertResultSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, table: str) -> Response:
        def upsert() -> Response:
            found = self.table(table)
            data = request.data
            if not isinstance(data, dict):
                raise ApiError(_("Ожидается объект JSON."), code="not_an_object")
            rows = data.get("records")
            key = data.get("key")
            problems: dict[str, list[str]] = {}
            if not isinstance(key, str) or not key:
                problems["key"] = [_("Укажите ключевое поле, например «inn».")]
            if not isinstance(rows, list):
                problems["records"] = [_("Ожидается список записей.")]
            elif len(rows) > MAX_UPSERT_ROWS:
                problems["records"] = [
                    _("Не больше %(n)s записей за запрос.") % {"n": MAX_UPSERT_ROWS}
                ]
            if problems or not isinstance(key, str) or not isinstance(rows, list):
                raise ApiError(_("Запрос не принят."), code="validation", fields=problems)
            result = upsert_records(
                self.actor(),
                found,
                key=key,
                rows=rows,
                policy=data.get("policy") or KEEP_FILLED,
            )
            return Response(result.as_counts())

        return run_idempotent(request, upsert)


# -- actions -------------------------------------------------------------------------------------


class ActionView(ApiView):
    @extend_schema(
        operation_id="actions_run",
        summary="Выполнить действие таблицы",
        description=(
            "Те же правила и права, что у кнопки. `counterparties/issue_invoice` → "
            '`{"invoice_id": id}`; `invoices/mark_paid` принимает `paid_date` (YYYY-MM-DD).'
        ),
        parameters=[
            TABLE,
            OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH),
            IDEMPOTENCY,
        ],
        request=docs.ActionRequestSerializer,
        responses={200: docs.ActionResultSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, table: str, action: str) -> Response:
        def run() -> Response:
            found = self.table(table)
            command = get_action(found, action)
            if command is None:
                raise NotFound(
                    _("У таблицы «%(table)s» нет действия «%(action)s».")
                    % {"table": found.key, "action": action}
                )
            # The action's own right first, as the button: «Нет права» before anything else.
            require_action(self.actor(), found, command)
            data = request.data if isinstance(request.data, dict) else {}
            ids = data.get("ids")
            if (
                not isinstance(ids, list)
                or not ids
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
                or not all(0 < i <= MAX_ID for i in ids)
            ):
                raise ApiError(
                    _("Укажите номера записей: «ids»: [1, 2]."),
                    code="validation",
                    fields={"ids": [_("Ожидается непустой список номеров записей.")]},
                )
            if not command.many and len(ids) != 1:
                raise ApiError(
                    _("Действие «%(label)s» выполняется для одной записи.")
                    % {"label": command.label},
                    code="one_record",
                    fields={"ids": [_("Укажите одну запись.")]},
                )
            records = list(
                selectors.base_queryset(self.actor(), found, state=None)
                .exclude(record_state=STATE_DELETED)
                .filter(pk__in=ids)
            )
            missing = sorted(set(ids) - {r.pk for r in records})
            if missing:
                raise NotFound(_("Запись №%(pk)s не найдена.") % {"pk": missing[0]})
            url = command.link(records[0])
            if url is not None:
                raise ApiError(
                    _("Действие «%(label)s» открывается ссылкой: %(url)s")
                    % {"label": command.label, "url": request.build_absolute_uri(url)},
                    code="link_action",
                )
            params = {k: v for k, v in data.items() if k != "ids"}
            result = run_action(
                self.actor(source=f"action:{action}:{SOURCE}"), found, command, list(ids), params
            )
            return Response({"message": result.message, **(result.data or {})})

        return run_idempotent(request, run)


# -- reports -------------------------------------------------------------------------------------


class FunnelView(ApiView):
    @extend_schema(
        operation_id="reports_funnel",
        summary="Воронка продаж",
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Начало (этот месяц)."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Конец периода."),
            OpenApiParameter(
                "managers", OpenApiTypes.STR, description="id менеджеров через запятую."
            ),
            OpenApiParameter("mode", OpenApiTypes.STR, enum=["period", "cohort"]),
        ],
        responses={200: docs.FunnelSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        default = Period.this_month()
        problems: dict[str, list[str]] = {}
        dates: dict[str, dt.date] = {}
        for name, fallback in (("date_from", default.date_from), ("date_to", default.date_to)):
            text = params.get(name, "").strip()
            try:
                dates[name] = dt.date.fromisoformat(text) if text else fallback
            except ValueError:
                problems[name] = [_("Ожидается дата ГГГГ-ММ-ДД.")]
        managers: list[int] | None = None
        raw = [part for value in params.getlist("managers") for part in value.split(",")]
        raw = [part.strip() for part in raw if part.strip()]
        if raw:
            if all(part.isdigit() for part in raw):
                managers = [int(part) for part in raw]
            else:
                problems["managers"] = [_("Ожидаются id пользователей через запятую.")]
        if problems:
            raise ApiError(_("Параметры отчёта не приняты."), code="validation", fields=problems)
        funnel = compute_funnel(
            self.actor(source="report"),
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            managers=managers,
            mode=params.get("mode") or MODE_PERIOD,
        )
        return Response(funnel.as_api())


# -- the records list ----------------------------------------------------------------------------


def list_page(actor: Actor, table: Table, request: Request) -> dict[str, Any]:
    """One page of ``GET …/records/``: filters, search, ordering, cursor and count."""
    params = request.query_params
    # Only the fields the actor may see: a filter or a sort on a hidden one is refused as on an
    # unknown field (its values never decide what the list holds), and it is not in the answer.
    fields = {f.key: f for f in rights.visible_fields(actor, table)}
    state = params.get("record_state") or STATE_ACTIVE
    if state not in STATES:
        raise ApiError(
            _("Состояние «%(state)s» не известно; возможны: %(all)s.")
            % {"state": state, "all": ", ".join(STATES)},
            code="validation",
            fields={"record_state": [_("Неизвестное состояние.")]},
        )
    conditions, system_q = _filters(params, fields)
    ordering = params.get("ordering") or "id"
    column = _order_column(ordering, fields)
    size = _page_size(params.get("page_size"))
    qs: QuerySet = selectors.list_records(
        actor,
        table,
        state=state,
        conditions=conditions,
        search=params.get("search", ""),
        ordering=(ordering,),
    )
    if system_q is not None:
        qs = qs.filter(system_q)
    cursor = params.get("cursor") or None
    page_cursor = None
    if cursor:
        prefix, _sep, page_cursor = cursor.partition("~")
        if prefix != ordering or decode_cursor(page_cursor) is None:
            raise ApiError(
                _("Курсор не подходит к этому запросу; начните с первой страницы."),
                code="bad_cursor",
                fields={"cursor": [_("Неверный курсор.")]},
            )
    try:
        page = keyset_page(
            qs,
            column=column,
            descending=ordering.startswith("-"),
            size=size,
            cursor=page_cursor,
        )
    except (ValidationError, ValueError, TypeError):
        raise ApiError(
            _("Курсор не подходит к этому запросу; начните с первой страницы."),
            code="bad_cursor",
            fields={"cursor": [_("Неверный курсор.")]},
        ) from None
    filtered = bool(conditions or system_q is not None or params.get("search", "").strip())
    count, how = count_rows(qs, filtered=filtered)
    next_url = None
    if page.next_cursor:
        query = [(k, v) for k, values in params.lists() for v in values if k != "cursor"]
        query.append(("cursor", f"{ordering}~{page.next_cursor}"))
        next_url = request.build_absolute_uri(request.path + "?" + urlencode(query))
    ordered = list(fields.values())
    rows = selectors.mask_unreadable_links(actor, table, list(page.rows))
    return {
        "results": [record_json(ordered, r) for r in rows],
        "next": next_url,
        "count": count,
        "count_exact": how == "exact",
    }


def _page_size(text: str | None) -> int:
    if not text:
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ApiError(
            _("page_size — число от 1 до %(max)s.") % {"max": MAX_PAGE_SIZE},
            code="validation",
            fields={"page_size": [_("Число от 1 до %(max)s.") % {"max": MAX_PAGE_SIZE}]},
        )
    return int(text)


def _order_column(ordering: str, fields: dict[str, Any]) -> str:
    key = ordering.removeprefix("-")
    if key in SYSTEM_ORDERING:
        return key
    field = fields.get(key)
    if field is None or not field.field_type.sortable:
        raise ApiError(
            _("Сортировать по «%(key)s» нельзя.") % {"key": key},
            code="validation",
            fields={"ordering": [_("Ключ сортируемого поля, id, created_at или updated_at.")]},
        )
    return f"{key}_id" if field.field_type.is_relation else key


def _filters(params: Any, fields: dict[str, Any]) -> tuple[list[selectors.Condition], Q | None]:
    conditions: list[selectors.Condition] = []
    system_q: Q | None = None
    problems: dict[str, list[str]] = {}
    for name, values in params.lists():
        if name in LIST_PARAMETERS:
            continue
        key, _sep, suffix = name.partition("__")
        op = LOOKUPS.get(suffix or "eq")
        if op is None:
            problems[name] = [
                _("Неизвестное условие «%(op)s»; возможны: %(all)s.")
                % {"op": suffix, "all": ", ".join(LOOKUPS)}
            ]
            continue
        for value in values:
            if key in SYSTEM_FILTERS:
                try:
                    q = _system_filter(key, op, value)
                except ValueError as exc:
                    problems[name] = [str(exc)]
                    continue
                system_q = q if system_q is None else system_q & q
                continue
            if key not in fields:
                problems[name] = [_("Нет поля «%(key)s».") % {"key": key}]
                continue
            parsed: Any = value
            if op == "in":
                parsed = [part.strip() for part in value.split(",") if part.strip()]
            conditions.append(selectors.Condition(key, op, parsed))
    if problems:
        raise ApiError(_("Фильтр не принят."), code="validation", fields=problems)
    return conditions, system_q


def _system_filter(key: str, op: str, value: str) -> Q:
    if op not in SYSTEM_FILTERS[key]:
        raise ValueError(_("Условие «%(op)s» не подходит для «%(key)s».") % {"op": op, "key": key})
    if key == "id":
        parts = [p.strip() for p in value.split(",")] if op == "in" else [value.strip()]
        if not all(p.isdigit() and int(p) <= MAX_ID for p in parts):
            raise ValueError(_("Ожидается номер записи."))
        numbers = [int(p) for p in parts]
        return Q(id__in=numbers) if op == "in" else Q(**{f"id__{_lookup(op)}": numbers[0]})
    moment = parse_datetime(value.strip())
    if moment is None:
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_("Ожидается дата или дата и время ISO 8601.")) from None
        moment = dt.datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        from django.utils import timezone

        moment = timezone.make_aware(moment)
    return Q(**{f"{key}__{_lookup(op)}": moment})


def _lookup(op: str) -> str:
    return "exact" if op == "eq" else op
