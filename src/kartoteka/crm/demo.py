"""The demo company («демо-данные»): managers, clients, a work history, invoices, tasks, events.

``kartoteka run`` loads it on the first start and ``kartoteka demo`` on request, so that a new
installation shows a living CRM: a sales funnel with numbers in it, clients with a history,
paid and unpaid invoices.

Design:

- **Plan, then write.** :func:`build_plan` draws everything from ``random.Random(seed)`` into plain
  dataclasses, without touching the database; :func:`load_demo` then writes the plan. The same
  seed gives the same company on any database (dates are relative to today), and the plan can be
  tested without a database.
- **Only the records service writes.** Every record goes through
  :func:`~kartoteka.records.services.create_records` / ``update_records`` (users through
  :func:`~kartoteka.accounts.services.create_user`), so the demo obeys the same validation, table
  rules and history as a user's data: INNs pass their checksum, «Статус до» is filled by the rule
  of «Работа с клиентом», and the counterparty's status is recomputed by it.
- **Batches, not rows.** One ``create_records`` call per table batch; the whole demo is a few
  dozen service calls in one transaction.
- **The work log is written in chronological waves.** The rule fills ``status_before`` from the
  counterparty's status *at the moment the row is created*, and recomputes the status after each
  batch. So the first done row of every counterparty goes in one batch, the second rows in the
  next, and so on: each row sees the status its predecessor left, exactly as if managers had
  logged the rows one by one. Each history moves forward only through the stages (SPEC §4),
  possibly skipping some, and ends at the counterparty's furthest stage or in «Отказ».
- **Invoices follow the log.** A counterparty that reached «Выписан счёт» has a done row of the
  system type «Выставление счёта» and an invoice dated that day; one that reached «Получена
  оплата» also has a «Получение оплаты» row, its invoice is paid, and it becomes a «Клиент».
  Work rows after that carry no status (SPEC §4.9). Invoice totals, VAT (included, 20 %) and line
  sums are computed here in ``Decimal`` and stored by the system actor, which may fill these
  read-only fields.
- **Safe addresses.** Every e-mail and web address uses the reserved ``.example`` domain, so a
  mailing tried on demo data reaches nobody; managers get random passwords nobody knows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.validators import inn_control_digits
from kartoteka.crm import demo_names as names

#: Values of one record for ``create_records``, keyed by field key.
Row = Mapping[str, Any]

#: Sales stages in order (SPEC §3); «Отказ» stands outside the order.
STAGES = ("cold", "interested", "proposal", "negotiation", "invoice", "paid")
REFUSED = "refused"
#: The furthest point of a counterparty's history, with relative weights. «none»: not worked yet.
OUTCOMES = {
    "none": 8,
    "cold": 8,
    "interested": 18,
    "proposal": 14,
    "negotiation": 12,
    "invoice": 9,
    "paid": 15,
    REFUSED: 16,
}
#: Legal form, kind and relative weight of the counterparties.
FORMS = (("ООО", "legal", 58), ("АО", "legal", 10), ("ИП", "entrepreneur", 20), ("", "person", 12))
SOURCES = {"site": 30, "call": 18, "referral": 15, "exhibition": 10, "import": 22, "other": 5}
#: How far back the work history goes, in days.
HISTORY_DAYS = 180
VAT_RATE = Decimal(20)
KOPECK = Decimal("0.01")

#: The managers: username, full name, phone, bonus %.
MANAGERS = (
    ("smirnova", "Смирнова Анна Сергеевна", "+79161234501", Decimal("5.0")),
    ("kuznetsov", "Кузнецов Дмитрий Игоревич", "+79161234502", Decimal("4.5")),
    ("volkova", "Волкова Екатерина Андреевна", "+79161234503", Decimal("6.0")),
)
MANAGER_POSITION = "Менеджер по продажам"
DEMO_DOMAIN = "kartoteka.example"
#: Reserved-domain mail services for private persons.
MAIL_SERVICES = ("mail.example", "pochta.example", "inbox.example")


# -- the plan ----------------------------------------------------------------------------------


@dataclass
class WorkStep:
    """One row of «Работа с клиентом»: ``status`` ``None`` means the row changes no status."""

    date: dt.date
    work_type: str
    status: str | None
    description: str
    result: str = ""
    done: bool = True


@dataclass
class InvoicePlan:
    """An invoice and its line items ``(name, quantity, unit, price)``."""

    date: dt.date
    due_date: dt.date
    items: list[tuple[str, Decimal, str, Decimal]]
    paid_date: dt.date | None = None
    number: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line_sum(q, p) for _n, q, _u, p in self.items), Decimal("0.00"))


@dataclass
class CounterpartyPlan:
    """A counterparty with everything that hangs on it.

    Attributes:
        values: field values of the counterparty, without the manager.
        manager: index into :data:`MANAGERS`.
        outcome: a key of :data:`OUTCOMES`.
        history: done rows that move the status, in chronological order.
        after: done rows after the counterparty became a client (no status).
        planned: rows not done yet, dated in the future.
    """

    values: dict[str, Any]
    manager: int
    outcome: str
    contacts: list[dict[str, Any]] = field(default_factory=list)
    history: list[WorkStep] = field(default_factory=list)
    after: list[WorkStep] = field(default_factory=list)
    planned: list[WorkStep] = field(default_factory=list)
    invoice: InvoicePlan | None = None


@dataclass
class DemoPlan:
    """Everything the demo writes. Tasks and events name managers and counterparties by index
    (``"_manager"``, ``"_counterparty"``) and hold naive local datetimes."""

    company: dict[str, Any]
    counterparties: list[CounterpartyPlan]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]


def line_sum(quantity: Decimal, price: Decimal) -> Decimal:
    """The sum of an invoice line, rounded to kopecks."""
    return (quantity * price).quantize(KOPECK, rounding=ROUND_HALF_UP)


def vat_included(total: Decimal, rate: Decimal = VAT_RATE) -> Decimal:
    """VAT contained in a total that includes it: ``total × rate / (100 + rate)``."""
    return (total * rate / (100 + rate)).quantize(KOPECK, rounding=ROUND_HALF_UP)


def build_plan(
    seed: int = 2026,
    counterparties: int = 300,
    *,
    today: dt.date,
    taken_inns: set[str] | None = None,
) -> DemoPlan:
    """Draw the whole demo company from ``seed``; no database access.

    Args:
        seed: the seed of ``random.Random``; the same seed gives the same plan.
        counterparties: how many counterparties to make.
        today: the day the history ends and planned work begins.
        taken_inns: INNs already in the database, never reused.

    Returns:
        The plan for :func:`load_demo` to write.
    """
    rng = random.Random(seed)
    company = _company(rng)
    taken = set(taken_inns or ())
    taken.add(company["inn"])
    used_names: set[str] = set()
    outcomes = _outcomes(rng, counterparties)
    plans = []
    for index, outcome in enumerate(outcomes):
        values, domain = _counterparty(rng, taken, used_names)
        plan = CounterpartyPlan(values=values, manager=index % len(MANAGERS), outcome=outcome)
        if values["kind"] != "person" and rng.random() < 0.6:
            plan.contacts = [_contact(rng, domain) for _ in range(rng.choice((1, 1, 2)))]
        _work(rng, plan, today)
        plans.append(plan)
    _number_invoices(plans)
    return DemoPlan(
        company=company,
        counterparties=plans,
        tasks=_tasks(rng, plans, today),
        events=_events(rng, plans, today),
    )


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _company(rng: random.Random) -> dict[str, Any]:
    """«Моя компания»: ООО «Картотека» with valid INN, OGRN and a settlement account."""
    inn = inn_control_digits("7704" + _digits(rng, 5))
    ogrn_body = "1217700" + _digits(rng, 5)
    ogrn = ogrn_body + str(int(ogrn_body) % 11 % 10)
    bik = "044525225"
    return {
        "name": "ООО «Картотека»",
        "inn": inn,
        "kpp": "770401001",
        "ogrn": ogrn,
        "address": "119021, г. Москва, ул. Льва Толстого, д. 16, офис 305",
        "phone": "+74951234567",
        "bank": "ПАО Сбербанк",
        "bik": bik,
        "account": account_with_key(bik, "40702810" + "0" + "3800" + _digits(rng, 7)),
        "corr_account": "30101810400000000225",
        "director": "Орлов Сергей Петрович",
        "accountant": "Белова Марина Викторовна",
        "vat_rate": "vat20",
        "vat_included": True,
        "is_default": True,
    }


def account_with_key(bik: str, account: str) -> str:
    """Put the control digit (the 9th) into a 20-digit settlement account for this BIK."""
    for key in "0123456789":
        candidate = account[:8] + key + account[9:]
        digits = bik[-3:] + candidate
        weighted = (int(d) * w % 10 for d, w in zip(digits, itertools.cycle((7, 1, 3))))
        if sum(weighted) % 10 == 0:
            return candidate
    raise ValueError(account)  # pragma: no cover - the weight 3 reaches every residue


def _outcomes(rng: random.Random, count: int) -> list[str]:
    """Every outcome at least once (when there is room), the rest by weight, shuffled."""
    chosen = list(OUTCOMES)[:count]
    chosen += [_weighted(rng, OUTCOMES) for _ in range(count - len(chosen))]
    rng.shuffle(chosen)
    return chosen


def _person(rng: random.Random, female: bool | None = None) -> tuple[str, str, str]:
    """Surname, first name and patronymic of one person."""
    if female is None:
        female = rng.random() < 0.45
    surname = rng.choice(names.SURNAMES) + ("а" if female else "")
    first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
    patronymic = rng.choice(names.PATRONYMICS)[1 if female else 0]
    return surname, first, patronymic


def _company_core(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(names.NAME_PREFIXES) + rng.choice(names.NAME_SUFFIXES)
    if roll < 0.7:
        return f"{rng.choice(names.NAME_ADJECTIVES)} {rng.choice(names.NAME_NOUNS).lower()}"
    return rng.choice(names.NAME_WORDS)


def _unique_inn(rng: random.Random, region: str, length: int, taken: set[str]) -> str:
    while True:
        body = region + f"{rng.randint(1, 50):02d}" + _digits(rng, 5 if length == 10 else 6)
        inn = inn_control_digits(body)
        if inn not in taken:
            taken.add(inn)
            return inn


def _mobile(rng: random.Random) -> str:
    return "+79" + _digits(rng, 9)


def _counterparty(
    rng: random.Random, taken: set[str], used_names: set[str]
) -> tuple[dict[str, Any], str]:
    """The values of one counterparty and its mail domain."""
    form, kind, _weight = rng.choices(FORMS, weights=[f[2] for f in FORMS])[0]
    city, region, area, postcode = rng.choices(names.CITIES, weights=names.CITY_WEIGHTS)[0]
    address = (
        f"{postcode}{_digits(rng, 3)}, г. {city}, {rng.choice(names.STREETS)}, "
        f"д. {rng.randint(1, 120)}"
    )
    values: dict[str, Any] = {"kind": kind, "city": city, "source": _weighted(rng, SOURCES)}
    if kind == "legal":
        for attempt in itertools.count():
            core = _company_core(rng)
            name = f"{form} «{core}»" if attempt < 20 else f"{form} «{core}-{attempt}»"
            if name not in used_names:
                break
        domain = names.translit(core) + ".example"
        values.update(
            name=name,
            inn=_unique_inn(rng, region, 10, taken),
            phone=f"+7{area}{_digits(rng, 7)}",
            email=f"{rng.choice(('info', 'office', 'zakaz', 'sales'))}@{domain}",
            address=address + (f", офис {rng.randint(1, 450)}" if rng.random() < 0.6 else ""),
        )
        values["kpp"] = values["inn"][:4] + "01001"
        if rng.random() < 0.4:
            values["website"] = f"https://{domain}"
    else:
        surname, first, patronymic = _person(rng)
        full = f"{surname} {first} {patronymic}"
        name = f"ИП {full}" if kind == "entrepreneur" else full
        while name in used_names:
            surname, first, patronymic = _person(rng)
            full = f"{surname} {first} {patronymic}"
            name = f"ИП {full}" if kind == "entrepreneur" else full
        domain = rng.choice(MAIL_SERVICES)
        login = f"{names.translit(surname)}.{names.translit(first)}"
        values.update(
            name=name,
            inn=_unique_inn(rng, region, 12, taken),
            phone=_mobile(rng),
            email=f"{login}{rng.randint(1, 99) if rng.random() < 0.5 else ''}@{domain}",
        )
        if kind == "entrepreneur" or rng.random() < 0.5:
            values["address"] = address + f", кв. {rng.randint(1, 200)}"
    used_names.add(values["name"])
    if rng.random() < 0.2:
        values["comment"] = rng.choice(names.COMMENTS)
    if rng.random() < 0.05:
        values["no_mailing"] = True
    return values, domain


def _contact(rng: random.Random, domain: str) -> dict[str, Any]:
    surname, first, patronymic = _person(rng)
    return {
        "full_name": f"{surname} {first} {patronymic}",
        "position": rng.choice(names.CONTACT_POSITIONS),
        "phone": _mobile(rng),
        "email": f"{names.translit(surname)}@{domain}",
    }


def _manager_statuses(rng: random.Random, top: int) -> list[str]:
    """Statuses of the manager's rows up to stage ``top`` (0–3): forward only, skipping some."""
    if top == 0:
        return ["cold"] * rng.randint(1, 2)
    steps = [*sorted(rng.sample(range(1, top), rng.randint(0, top - 1))), top]
    if rng.random() < 0.35:
        steps.insert(0, 0)
    if rng.random() < 0.3:
        at = rng.randrange(len(steps))
        steps.insert(at, steps[at])
    return [STAGES[i] for i in steps]


def _manager_work_type(rng: random.Random, status: str) -> str:
    if status == "proposal":
        return "letter" if rng.random() < 0.7 else "call"
    if status == "negotiation":
        return "meeting" if rng.random() < 0.5 else "call"
    return rng.choices(("call", "letter", "meeting"), weights=(6, 2, 2))[0]


def _manager_step(rng: random.Random, status: str) -> tuple[str, str | None, str, str]:
    work_type = _manager_work_type(rng, status)
    return (
        work_type,
        status,
        rng.choice(names.WORK_DESCRIPTIONS[work_type]),
        rng.choice(names.WORK_RESULTS[status]),
    )


def _work(rng: random.Random, plan: CounterpartyPlan, today: dt.date) -> None:
    """Fill the history, the rows after it, the planned rows and the invoice of one counterparty."""
    outcome = plan.outcome
    if outcome != "none":
        if outcome == REFUSED:
            reached = rng.choices(range(5), weights=(30, 25, 20, 15, 10))[0]
        else:
            reached = STAGES.index(outcome)
        top = reached if reached < 4 else rng.choices((1, 2, 3), weights=(2, 3, 5))[0]
        rows = [_manager_step(rng, status) for status in _manager_statuses(rng, top)]
        if reached >= 4:
            rows.append(("invoice", "invoice", "Выставление счёта", rng.choice(names.INVOICE_TEXT)))
        if outcome == "paid":
            rows.append(("payment", "paid", "Получение оплаты", rng.choice(names.PAYMENT_TEXT)))
        if outcome == REFUSED:
            work_type = rng.choice(("call", "letter"))
            rows.append(
                (
                    work_type,
                    REFUSED,
                    rng.choice(names.WORK_DESCRIPTIONS[work_type]),
                    rng.choice(names.WORK_RESULTS[REFUSED]),
                )
            )
        after = [rng.choice(names.CLIENT_WORK)] if outcome == "paid" and rng.random() < 0.4 else []
        dates = _dates(rng, [r[0] for r in rows] + [a[0] for a in after], outcome, today)
        plan.history = [
            WorkStep(day, work_type, status, description, result)
            for day, (work_type, status, description, result) in zip(
                dates[: len(rows)], rows, strict=True
            )
        ]
        plan.after = [
            WorkStep(day, work_type, None, description, result)
            for day, (work_type, description, result) in zip(dates[len(rows) :], after, strict=True)
        ]
        if reached >= 4:
            plan.invoice = _invoice(rng, plan.history, outcome == "paid")
    if outcome != REFUSED and rng.random() < (0.5 if outcome == "none" else 0.3):
        work_type, description = rng.choice(names.PLANNED_WORK)
        day = today + dt.timedelta(days=rng.randint(1, 21))
        plan.planned = [WorkStep(day, work_type, None, description, done=False)]


def _dates(
    rng: random.Random, work_types: list[str], outcome: str, today: dt.date
) -> list[dt.date]:
    """Strictly increasing dates of done rows, all within :data:`HISTORY_DAYS` before today.

    Gaps are a few days to three weeks (a payment comes 1–20 days after its invoice); an open
    deal was last worked on recently, a closed one (paid, refused, cold) at any time.
    """
    gaps = [
        rng.randint(1, 20) if work_type == "payment" else rng.randint(1, 21)
        for work_type in work_types[1:]
    ]
    if sum(gaps) > HISTORY_DAYS - 1:
        gaps = [max(1, g * (HISTORY_DAYS - 1) // sum(gaps)) for g in gaps]
    span = sum(gaps)
    open_deal = outcome in ("interested", "proposal", "negotiation", "invoice")
    latest = min(HISTORY_DAYS - span, 30 if open_deal else HISTORY_DAYS)
    end = today - dt.timedelta(days=rng.randint(0, max(0, latest)))
    dates = [end]
    for gap in reversed(gaps):
        dates.append(dates[-1] - dt.timedelta(days=gap))
    return dates[::-1]


def _invoice(rng: random.Random, history: list[WorkStep], paid: bool) -> InvoicePlan:
    issued = next(s.date for s in history if s.work_type == "invoice")
    items = []
    for name, unit, price, quantities in rng.sample(names.CATALOG, rng.choice((1, 1, 2, 2, 3))):
        items.append(
            (name, Decimal(rng.choice(quantities)).quantize(Decimal("0.001")), unit, price)
        )
    paid_date = next(s.date for s in history if s.work_type == "payment") if paid else None
    return InvoicePlan(issued, issued + dt.timedelta(days=10), items, paid_date)


def _number_invoices(plans: list[CounterpartyPlan]) -> None:
    """Number invoices by date within each year: ``2026-0001``, ``2026-0002``, …"""
    invoices = sorted((p.invoice for p in plans if p.invoice is not None), key=lambda inv: inv.date)
    counters: dict[int, int] = {}
    for invoice in invoices:
        counters[invoice.date.year] = counters.get(invoice.date.year, 0) + 1
        invoice.number = f"{invoice.date.year}-{counters[invoice.date.year]:04d}"


def _pick(rng: random.Random, plans: list[CounterpartyPlan], outcomes: Sequence[str]) -> int | None:
    indexes = [i for i, p in enumerate(plans) if p.outcome in outcomes]
    return rng.choice(indexes) if indexes else None


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def _tasks(rng: random.Random, plans: list[CounterpartyPlan], today: dt.date) -> list[dict]:
    linked = {
        "Подготовить коммерческое предложение": ("interested", "proposal"),
        "Позвонить по неоплаченному счёту": ("invoice",),
        "Провести обучение пользователей": ("paid",),
    }
    tasks = []
    for index, (title, description, priority) in enumerate(names.TASKS):
        target = _pick(rng, plans, linked[title]) if title in linked else None
        state = rng.choices(("new", "in_progress", "done", "cancelled"), weights=(4, 3, 2, 1))[0]
        offset = rng.randint(-12, -1) if state in ("done", "cancelled") else rng.randint(-2, 20)
        task = {
            "title": title if target is None else f"{title}: {plans[target].values['name']}",
            "description": description,
            "hours_needed": Decimal(rng.choice(("0.5", "1.0", "2.0", "4.0", "8.0"))),
            "deadline": _local(today + dt.timedelta(days=offset), 18),
            "priority": priority,
            "state": state,
            "_manager": index % len(MANAGERS),
            "_counterparty": target,
        }
        tasks.append(task)
    return tasks


def _events(rng: random.Random, plans: list[CounterpartyPlan], today: dt.date) -> list[dict]:
    events = []
    for title, place, description in names.EVENTS:
        with_client = place in ("Офис клиента", "Zoom", "Онлайн")
        target = _pick(rng, plans, ("negotiation", "proposal", "paid")) if with_client else None
        manager = rng.randrange(len(MANAGERS))
        start = _local(today + dt.timedelta(days=rng.randint(-14, 14)), rng.randint(10, 16))
        participants = ", ".join(m[1] for m in MANAGERS) if target is None else MANAGERS[manager][1]
        events.append(
            {
                "title": title if target is None else f"{title}: {plans[target].values['name']}",
                "start": start,
                "end": start + dt.timedelta(hours=rng.choice((1, 1, 2, 3))),
                "participants": participants,
                "place": place,
                "description": description,
                "_counterparty": target,
            }
        )
    return events


# -- writing -----------------------------------------------------------------------------------


def _table(key: str) -> Any:
    from kartoteka.tables.models import Table

    return Table.objects.get(key=key)


def _objects(table: Any) -> Any:
    from kartoteka.tables.modelfactory import model_for

    return model_for(table)._default_manager


def has_demo_data() -> bool:
    """True when the company is set up: «Моя компания» or «Контрагенты» has any record."""
    from kartoteka.tables.models import Table

    tables = {t.key: t for t in Table.objects.filter(key__in=("companies", "counterparties"))}
    return any(_objects(t).exists() for t in tables.values())


def load_demo(seed: int = 2026, counterparties: int = 300) -> dict[str, int]:
    """Load the demo company through the records service, in one transaction.

    Managers that already exist (by username) and an existing default «Моя компания» are reused;
    INNs already in the base are skipped. Checking whether a demo is wanted at all is the
    caller's job (see :func:`has_demo_data`).

    Args:
        seed: the seed of the random data; the same seed gives the same company.
        counterparties: how many counterparties to create.

    Returns:
        How many records of each kind were created, keyed by Russian names.
    """
    from kartoteka.records.services import create_records

    actor = Actor.system("demo", source="demo")
    counterparty_table = _table("counterparties")
    taken = set(
        _objects(counterparty_table).exclude(inn__isnull=True).values_list("inn", flat=True)
    )
    plan = build_plan(seed, counterparties, today=timezone.localdate(), taken_inns=taken)
    with transaction.atomic():
        company_id = _company_id(actor, plan.company)
        managers = _managers(actor)
        rows: list[Row] = [
            {**p.values, "manager": managers[p.manager]} for p in plan.counterparties
        ]
        records = create_records(actor, counterparty_table, rows)
        ids = [r.pk for r in records]
        contacts: list[Row] = [
            {**contact, "counterparty": pk}
            for pk, p in zip(ids, plan.counterparties, strict=True)
            for contact in p.contacts
        ]
        if contacts:
            create_records(actor, _table("contacts"), contacts)
        work = _write_work(actor, plan, ids, managers, "history")
        invoices = _write_invoices(actor, plan, ids, managers, company_id)
        work += sum(1 for p in plan.counterparties if p.outcome == "paid")
        work += _write_work(actor, plan, ids, managers, "after")
        work += _write_work(actor, plan, ids, managers, "planned")
        tasks = _write_tasks(actor, plan, ids, managers)
        events = _write_events(actor, plan, ids)
    return {
        "менеджеров": len(MANAGERS),
        "контрагентов": len(ids),
        "контактных лиц": len(contacts),
        "работ": work,
        "счетов": invoices,
        "заданий": tasks,
        "событий": events,
    }


def _company_id(actor: Actor, values: dict[str, Any]) -> int:
    from kartoteka.records.services import create_records

    table = _table("companies")
    existing = _objects(table).filter(is_default=True).order_by("pk").first()
    if existing is not None:
        return existing.pk
    return create_records(actor, table, [values])[0].pk


def _managers(actor: Actor) -> list[int]:
    """User ids of the demo managers, created when missing, with their bonus percent set."""
    from kartoteka.accounts.services import create_user
    from kartoteka.records.services import create_records, update_records

    user_model = get_user_model()
    users = []
    for username, full_name, phone, _bonus in MANAGERS:
        user: Any = user_model.objects.filter(username__iexact=username).first()
        if user is None:
            user = create_user(
                actor,
                username=username,
                password=secrets.token_urlsafe(16),
                group=MANAGERS_GROUP,
                full_name=full_name,
                email=f"{username}@{DEMO_DOMAIN}",
                position=MANAGER_POSITION,
                phone=phone,
                check_password=False,
            )
        users.append(user.pk)
    employees = _table("employees")
    found = dict(_objects(employees).filter(user_id__in=users).values_list("user_id", "pk"))
    bonus = {pk: m[3] for pk, m in zip(users, MANAGERS, strict=True)}
    missing: list[Row] = [
        {"full_name": m[1], "user": pk, "position": MANAGER_POSITION, "bonus_percent": m[3]}
        for pk, m in zip(users, MANAGERS, strict=True)
        if pk not in found
    ]
    if missing:
        create_records(actor, employees, missing)
    if found:
        update_records(
            actor,
            employees,
            {record: {"bonus_percent": bonus[user]} for user, record in found.items()},
        )
    return users


def _work_row(step: WorkStep, counterparty: int, manager: int) -> dict[str, Any]:
    return {
        "counterparty": counterparty,
        "date": step.date,
        "work_type": step.work_type,
        "description": step.description,
        "result": step.result or None,
        "done": step.done,
        "status": step.status,
        "manager": manager,
    }


def _write_work(
    actor: Actor, plan: DemoPlan, ids: list[int], managers: list[int], part: str
) -> int:
    """Write one part of the work log (``history``, ``after`` or ``planned``) in waves.

    Wave *k* holds the *k*-th row of every counterparty, so the rule of «Работа с клиентом» sees
    the status the previous row left when it fills «Статус до».
    """
    from kartoteka.records.services import create_records

    table = _table("client_work")
    # Payments are not written here: marking the invoice paid makes the payment rule add the
    # «Получение оплаты» row, as it does for a person pressing «Счёт оплачен».
    steps = [
        [step for step in getattr(p, part) if step.work_type != "payment"]
        for p in plan.counterparties
    ]
    written = 0
    for wave in range(max((len(s) for s in steps), default=0)):
        rows: list[Row] = [
            _work_row(s[wave], pk, managers[p.manager])
            for pk, p, s in zip(ids, plan.counterparties, steps, strict=True)
            if len(s) > wave
        ]
        create_records(actor, table, rows)
        written += len(rows)
    return written


def _write_invoices(
    actor: Actor, plan: DemoPlan, ids: list[int], managers: list[int], company_id: int
) -> int:
    """Invoices with their items; the paid ones are then marked paid, which (by the payment
    rule) adds their «Получение оплаты» rows and makes their counterparties clients."""
    from kartoteka.records.services import create_records, update_records

    pairs = [
        (pk, p, p.invoice)
        for pk, p in zip(ids, plan.counterparties, strict=True)
        if p.invoice is not None
    ]
    if not pairs:
        return 0
    pairs.sort(key=lambda pair: (pair[2].date, pair[2].number))
    created = create_records(
        actor,
        _table("invoices"),
        [
            {
                "number": invoice.number,
                "date": invoice.date,
                "company": company_id,
                "counterparty": pk,
                "manager": managers[p.manager],
                "due_date": invoice.due_date,
                "total": invoice.total,
                "vat": vat_included(invoice.total),
            }
            for pk, p, invoice in pairs
        ],
    )
    paid = {
        record.pk: {"paid": True, "paid_date": invoice.paid_date}
        for record, (_pk, _p, invoice) in zip(created, pairs, strict=True)
        if invoice.paid_date is not None
    }
    items: list[Row] = [
        {
            "invoice": record.pk,
            "name": name,
            "quantity": quantity,
            "unit": unit,
            "price": price,
            "vat_rate": "vat20",
            "sum": line_sum(quantity, price),
        }
        for record, (_pk, _p, invoice) in zip(created, pairs, strict=True)
        for name, quantity, unit, price in invoice.items
    ]
    create_records(actor, _table("invoice_items"), items)
    if paid:
        update_records(actor, _table("invoices"), paid)
    return len(created)


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value)


def _author() -> int | None:
    """The first administrator, shown as the author of the demo tasks."""
    user = (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=ADMIN_GROUP))
        .order_by("pk")
        .first()
    )
    return None if user is None else user.pk


def _write_tasks(actor: Actor, plan: DemoPlan, ids: list[int], managers: list[int]) -> int:
    from kartoteka.records.services import create_records

    author = _author()
    rows: list[Row] = []
    for task in plan.tasks:
        row = {k: v for k, v in task.items() if not k.startswith("_")}
        row["deadline"] = _aware(task["deadline"])
        row["assignee"] = managers[task["_manager"]]
        row["author"] = author
        if task["_counterparty"] is not None:
            row["counterparty"] = ids[task["_counterparty"]]
        rows.append(row)
    return len(create_records(actor, _table("tasks"), rows)) if rows else 0


def _write_events(actor: Actor, plan: DemoPlan, ids: list[int]) -> int:
    from kartoteka.records.services import create_records

    rows: list[Row] = []
    for event in plan.events:
        row = {k: v for k, v in event.items() if not k.startswith("_")}
        row["start"], row["end"] = _aware(event["start"]), _aware(event["end"])
        if event["_counterparty"] is not None:
            row["counterparty"] = ids[event["_counterparty"]]
        rows.append(row)
    return len(create_records(actor, _table("events"), rows)) if rows else 0
