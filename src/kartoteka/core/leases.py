"""Leases of background jobs: who runs a job, and whether he is still alive.

A job that a process runs for minutes (an import, its undo, the dry run of a big file; later a
mailing or a batch of documents) keeps its state on its own row, and a process killed with
``kill -9`` (or a lost machine) never gets to say it stopped. So a job row that inherits
:class:`LeasedJob` carries a lease: ``lease_owner`` — the host, process id and that process's
start time of whoever took it — and ``heartbeat_at``, renewed by :func:`beat` as the job goes
(an import renews it with every chunk it commits).

:func:`is_dead` tells, on read, whether the holder of a running job is gone: on the same host
at once (the process is no more, or is a zombie, or its id now belongs to a process started
later); on another host when the heartbeat is older than :func:`lease_seconds`
(``KARTOTEKA_JOB_LEASE_SECONDS``, default 600) — a process on this host that is alive is
trusted however long its chunk takes. Each kind of job decides what a dead job
becomes (an import: «прервано», with what it wrote) — see
:func:`kartoteka.imports.services.settle`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from functools import cache
from typing import Any

from django.conf import settings as conf
from django.db import models
from django.utils import timezone


class LeasedJob(models.Model):
    """A job row with a lease; see the module's text."""

    lease_owner = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def lease_seconds() -> int:
    return int(getattr(conf, "KARTOTEKA_JOB_LEASE_SECONDS", 600))


def _start_time(pid: int) -> str:
    """The start time of a process in clock ticks since boot (``/proc``), or ``""``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


@cache
def _host() -> str:
    return socket.gethostname()


def me() -> str:
    """This process as a lease owner: ``host:pid:start``."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_time(pid)}"


def lease() -> dict[str, Any]:
    """The fields that give a job to this process: pass them to the ``update`` that claims it."""
    return {"lease_owner": me(), "heartbeat_at": timezone.now()}


def beat(model: type[models.Model], pk: int, **fields: Any) -> None:
    """Renew this process's lease of a job (with ``fields`` written in the same statement)."""
    model._default_manager.filter(pk=pk).update(heartbeat_at=timezone.now(), **fields)


def _alive_here(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return True  # no /proc: the signal said it exists
    state = stat[stat.rfind(")") + 2 :].split()[:1]
    if state == ["Z"] or state == ["X"]:
        return False
    return not start or _start_time(pid) == start


def is_dead(job: LeasedJob, *, now: dt.datetime | None = None) -> bool:
    """Whether the process holding ``job`` is gone (see the module's text). A job nobody has
    taken yet is not dead: it waits for a worker."""
    if not job.lease_owner:
        return False
    host, _sep, rest = job.lease_owner.partition(":")
    pid_text, _sep, start = rest.partition(":")
    if host == _host() and pid_text.isdigit():
        return not _alive_here(int(pid_text), start)
    if job.heartbeat_at is None:
        return True
    now = now or timezone.now()
    return (now - job.heartbeat_at).total_seconds() > lease_seconds()
