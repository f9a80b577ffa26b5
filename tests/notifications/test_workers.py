"""Several workers against one database: no job runs twice and no reminder fires twice.

Real processes, a real database (a PostgreSQL database of its own when ``DATABASE_URL`` points at
PostgreSQL, else an SQLite file in WAL mode) and a real SMTP server on loopback: two worker
processes start at the same instant and race for the same jobs and the same reminders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import _postgres_database
from tests.installs import copy_of
from tests.mail import Inbox, free_port

JOBS = 30
TASKS = 12

SEED = """
import datetime as dt, json, sys
import django; django.setup()
from zoneinfo import ZoneInfo
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor
from kartoteka.notifications.models import Notification
from kartoteka.notifications.services import _enqueue_emails, notify
from kartoteka.records.services import create_records
from kartoteka.tables.models import Table
system = Actor.system("seed")
boss = create_user(system, username="boss", password="x", group="Администратор",
                   full_name="Босс", email="boss@example.ru", check_password=False)
crew = [create_user(system, username=f"m{i}", password="x", group="Менеджеры",
                    full_name=f"Менеджер {i}", email=f"m{i}@example.ru", check_password=False)
        for i in range(3)]
deadline = dt.datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Europe/Moscow"))
create_records(Actor.for_user(boss), Table.objects.get(key="tasks"), [
    {"title": f"Задание {i}", "assignee": crew[i % 3].pk, "deadline": deadline}
    for i in range(TASKS)])
Notification.objects.all().delete()
for i in range(JOBS):
    note = notify([crew[i % 3].pk], f"Письмо {i}", email=False)[0]
    _enqueue_emails([note.pk])
"""

RACE = """
import datetime as dt, json, sys, time
import django; django.setup()
from zoneinfo import ZoneInfo
from django_tasks_db.management.commands.db_worker import Worker
from kartoteka.notifications.reminders import evaluate_reminders
from kartoteka.notifications.scheduler import run_tick
start_at, name = float(sys.argv[1]), sys.argv[2]
overdue = dt.datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Europe/Moscow"))
time.sleep(max(0, start_at - time.time()))
fired = evaluate_reminders(overdue)
tick = run_tick(overdue + dt.timedelta(minutes=1), worker=name)
Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
       max_tasks=None, worker_id=name, excluded_queue_names=[]).run()
print(json.dumps({"fired": fired, "tick": tick}))
"""

COUNT = """
import json
import django; django.setup()
from django_tasks_db.models import DBTaskResult
from kartoteka.notifications.models import Notification, ReminderFiring
print(json.dumps({
    "statuses": sorted(set(DBTaskResult.objects.values_list("status", flat=True))),
    "jobs": DBTaskResult.objects.count(),
    "firings": ReminderFiring.objects.count(),
    "overdue": Notification.objects.filter(text__contains="просрочено").count(),
    "per_user": sorted(
        Notification.objects.filter(text__contains="просрочено")
        .values_list("user__username", flat=True)
    ),
}))
"""


@pytest.fixture
def database(tmp_path, tmp_path_factory):
    pg_url = os.environ.get("DATABASE_URL", "")
    name = f"kartoteka_workers_{os.getpid()}"
    # a fresh ``kartoteka init`` (copied from the run's template: see tests/installs.py)
    env = copy_of(tmp_path_factory, "init", tmp_path, name)
    env["DJANGO_SETTINGS_MODULE"] = "kartoteka.config.settings"
    yield env
    if pg_url.startswith("postgres"):
        _postgres_database(pg_url, name, drop_only=True)


def _python(env, code, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        **kwargs,
    )


def _run(env, code):
    proc = _python(env, code)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def test_two_workers_do_not_duplicate_a_job_or_a_reminder(database):
    # given a mail server, 30 e-mail jobs and 12 tasks whose deadline is due
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {**database, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(controller.port)}
    try:
        _run(env, SEED.replace("TASKS", str(TASKS)).replace("JOBS", str(JOBS)))
        # when two workers start at the same instant
        start_at = time.time() + 4
        procs = [_python(env, RACE, str(start_at), name) for name in ("worker-a", "worker-b")]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        counts = json.loads(_run(env, COUNT).strip().splitlines()[-1])
    finally:
        controller.stop()
    # then every reminder fired once between them, and one of them had the minute's tick
    assert sum(r["fired"] for r in results) == TASKS
    assert sorted(r["tick"] is None for r in results) == [False, True]
    assert counts["firings"] == TASKS
    assert counts["overdue"] == TASKS
    assert counts["per_user"] == sorted(["m0", "m1", "m2"] * (TASKS // 3))
    # and every job ran exactly once
    assert counts["jobs"] == JOBS
    assert counts["statuses"] == ["SUCCESSFUL"]
    assert len(inbox.messages) == JOBS
    subjects = sorted(
        m[2].decode().split("Subject: ", 1)[1].split("\n", 1)[0] for m in inbox.messages
    )
    assert len(set(subjects)) == JOBS
