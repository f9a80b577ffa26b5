"""Rules and actions of «Задания» (``tasks``) and «Работа по заданию» (``task_work``), SPEC §8.

- «Автор» is filled with the person who adds the task and is never typed (read-only field).
- Assigning or reassigning a task notifies the new assignee (never the person who assigned it
  to himself).
- «Работа по заданию» logs the stages of a task as «Работа с клиентом» logs work with a client:
  «Состояние до» is filled from the task's current state; the task's state is the resulting state
  of its latest *done* row (by date, then id), recomputed when rows are added, edited, archived,
  deleted or restored. A person cannot set the state of an existing task directly.
- A done or cancelled task can be reopened (a row taking it back to «Новое»/«В работе») only by
  its author or an administrator; the row and the state change stay in history.
- A work row added by someone else notifies the task's assignee and author.
- «Назначить задание» on an employee or a counterparty opens a new task with the assignee or
  the counterparty filled in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RuleViolation
from kartoteka.core.i18n import stored_text
from kartoteka.records.actions import ActionResult, TableAction, register_action
from kartoteka.records.rules import RowChange, RuleContext, TableRules, table_rules
from kartoteka.tables.modelfactory import STATE_ACTIVE, field_of, model_for
from kartoteka.tables.models import Table

CLOSED_STATES = ("done", "cancelled")
STATE_REASON = "rule:task_state_follows_work"


def _table(key: str) -> Table:
    return Table.objects.get(key=key)


def _state_label(key: str | None) -> str:
    if key is None:
        return "—"
    field = field_of(_table("tasks"), "state")
    return field.field_type.display(field, key)


def _tasks(ids: set[Any]) -> dict[int, Any]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    model = model_for(_table("tasks"))
    return {t.pk: t for t in model.objects.filter(pk__in=ids)}


def may_reopen(actor: Actor, task: Any) -> bool:
    return actor.is_admin or actor.reason == STATE_REASON or actor.user_id == task.author_id


def _check_reopen(actor: Actor, task: Any, before: str | None, new: str | None) -> None:
    reopening = before in CLOSED_STATES and new is not None and new not in CLOSED_STATES
    if reopening and not may_reopen(actor, task):
        raise RuleViolation(
            "task_reopen_author_only",
            _(
                "Правило «переоткрытие задания»: задание в состоянии «%(state)s» может "
                "вернуть в работу только его автор или администратор."
            )
            % {"state": _state_label(before)},
            field="state",
        )


class TaskRules(TableRules):
    table_key = "tasks"

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        if ctx.actor.is_system or ctx.actor.reason.startswith("rule:"):
            return
        for row in rows:
            if not row.is_create and "state" in row.values:
                raise RuleViolation(
                    "task_state_follows_work",
                    _(
                        "Правило «состояние по работе»: состояние задания меняется строкой в "
                        "«Работа по заданию», а не вручную."
                    ),
                    field="state",
                )

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        from kartoteka.notifications.services import Message, notify_each

        notify_each(
            [
                Message(
                    row.values["assignee"],
                    stored_text(
                        gettext_noop("Вам назначено задание «%(title)s»"), title=str(row.record)
                    ),
                    ctx.table,
                    row.record.pk,
                    "task_assigned",
                )
                for row in rows
                if row.values.get("assignee") is not None
            ],
            exclude=ctx.actor.user_id,
        )


class TaskWorkRules(TableRules):
    table_key = "task_work"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        tasks = _tasks({r.get("task") for r in rows if r.is_create})
        for row in rows:
            task = tasks.get(row.get("task"))
            if row.is_create and task is not None:
                row.values["state_before"] = task.state

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        tasks = _tasks({r.get("task") for r in rows})
        for row in rows:
            task = tasks.get(row.get("task"))
            touched = row.is_create or "state" in row.values or "done" in row.values
            if task is None or not touched:
                continue
            _check_reopen(ctx.actor, task, row.get("state_before"), row.get("state"))

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        ids = {r.get("task") for r in rows} | {r.old.get("task") for r in rows}
        recompute_task_state(ctx.actor, {i for i in ids if i})
        if ctx.operation == "create":
            self._notify_new_rows(ctx, rows)

    def _notify_new_rows(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        from kartoteka.notifications.services import Message, notify_each

        if not rows or ctx.actor.reason.startswith("rule:"):
            return
        tasks = _tasks({r.get("task") for r in rows})
        tasks_table = _table("tasks")
        messages = []
        for task_id in sorted({r.get("task") for r in rows}):
            task = tasks.get(task_id)
            if task is None:
                continue
            text = stored_text(
                gettext_noop("Новая запись о работе по заданию «%(title)s»"), title=str(task)
            )
            for user_id in dict.fromkeys([task.assignee_id, task.author_id]):
                messages.append(Message(user_id, text, tasks_table, task.pk, "task_work"))
        notify_each(messages, exclude=ctx.actor.user_id)

    def clean_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        if state != STATE_ACTIVE:
            return
        tasks = _tasks({r.task_id for r in records})
        for record in records:
            task = tasks.get(record.task_id)
            if task is not None:
                _check_reopen(ctx.actor, task, task.state, record.state if record.done else None)

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        recompute_task_state(ctx.actor, {r.task_id for r in records if r.task_id})


def recompute_task_state(actor: Actor, task_ids: set[int]) -> None:
    """Set each task's state to the result of its latest done work row; with no done row left,
    to the «Состояние до» of its earliest row (a task without rows keeps its state)."""
    from kartoteka.records.services import update_records

    ids = {i for i in task_ids if i}
    if not ids:
        return
    work = model_for(_table("task_work"))
    latest: dict[int, str] = {}
    done = (
        work.objects.filter(
            task_id__in=ids, done=True, record_state=STATE_ACTIVE, state__isnull=False
        )
        .order_by("task_id", "date", "id")
        .values_list("task_id", "state")
    )
    for parent, state in done:
        latest[parent] = state
    missing = ids - set(latest)
    if missing:
        first = (
            work.objects.filter(task_id__in=missing, state_before__isnull=False)
            .order_by("task_id", "-date", "-id")
            .values_list("task_id", "state_before")
        )
        for parent, before in first:
            latest[parent] = before
    tasks = _table("tasks")
    current = dict(model_for(tasks).objects.filter(pk__in=ids).values_list("pk", "state"))
    updates = {pk: {"state": s} for pk, s in latest.items() if pk in current and current[pk] != s}
    if updates:
        acting = replace(actor, reason=STATE_REASON, source=f"{actor.source}:state")
        update_records(acting, tasks, updates)


class AssignTaskAction(TableAction):
    """«Назначить задание»: a new task form with the assignee or counterparty filled in."""

    key = "assign_task"
    label = gettext_lazy("Назначить задание")
    style = "outline-primary"

    def __init__(self, table_key: str) -> None:
        self.table_key = table_key

    def link(self, record: Any) -> str | None:
        url = reverse("record_add", args=["tasks"])
        if self.table_key == "employees":
            return f"{url}?assignee={record.user_id}" if record.user_id else url
        return f"{url}?counterparty={record.pk}"

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        record = model_for(table).objects.get(pk=ids[0])
        return ActionResult(message="", redirect_to=self.link(record) or "")


def register_task_rules() -> None:
    for rules in (TaskRules(), TaskWorkRules()):
        existing = table_rules.find(rules.table_key)
        parts = getattr(existing, "parts", [existing]) if existing else []
        if not any(type(p) is type(rules) for p in parts):
            table_rules.register(rules.table_key, rules)
    register_action(AssignTaskAction("employees"))
    register_action(AssignTaskAction("counterparties"))
