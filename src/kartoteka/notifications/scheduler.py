"""The scheduler that ``kartoteka worker`` runs beside the job worker: every minute it evaluates
the reminders.

Several workers may run against one database. Each minute is claimed by inserting a
:class:`SchedulerTick` row with a unique minute; the worker whose insert succeeds evaluates that
minute, the others skip it. Should two evaluations overlap anyway (a slow tick running into the
next minute), the unique firing log still lets each reminder fire once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from kartoteka.notifications.models import SchedulerTick
from kartoteka.notifications.reminders import evaluate_reminders

log = logging.getLogger(__name__)

KEEP_TICKS = dt.timedelta(days=1)


def claim_minute(now: dt.datetime, worker: str = "") -> bool:
    """Claim the minute of ``now`` for this worker; ``False`` when another worker has it."""
    minute = now.replace(second=0, microsecond=0)
    try:
        with transaction.atomic():
            SchedulerTick.objects.create(minute=minute, started_at=timezone.now(), worker=worker)
    except IntegrityError:
        return False
    SchedulerTick.objects.filter(minute__lt=minute - KEEP_TICKS).delete()
    return True


def run_tick(now: dt.datetime | None = None, worker: str = "") -> int | None:
    """Evaluate the reminders of ``now``'s minute if no other worker has; ``None`` if skipped."""
    now = now or timezone.now()
    if not claim_minute(now, worker):
        return None
    fired = evaluate_reminders(now)
    from kartoteka.reports.schedule import send_due_reports

    send_due_reports(now)  # reports e-mailed on a schedule
    return fired


def run_scheduler(stop: threading.Event, worker: str = "", interval: float = 5.0) -> None:
    """Tick until ``stop`` is set; checks a few times a minute so no minute is missed."""
    log.info("Scheduler started (%s)", worker)
    while not stop.is_set():
        close_old_connections()
        try:
            fired = run_tick(worker=worker)
            if fired:
                log.info("Reminders fired: %s", fired)
        except Exception:
            log.exception("Scheduler tick failed")
        close_old_connections()
        stop.wait(interval)


def start_scheduler_thread(worker: str = "") -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(stop, worker), name="kartoteka-scheduler", daemon=True
    )
    thread.start()
    return thread, stop
