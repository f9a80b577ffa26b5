"""Creating and upgrading an installation: migrations, groups, built-in tables, first admin."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from kartoteka.accounts.services import create_user, ensure_default_groups
from kartoteka.core.actor import ADMIN_GROUP, Actor
from kartoteka.crm import funnel_facts
from kartoteka.crm.spec import CATEGORIES, TABLES
from kartoteka.search.services import reindex_missing
from kartoteka.tables.builtin import sync_builtin_tables

CREDENTIALS_FILE = "admin-credentials.txt"


def sync() -> list[str]:
    """Bring groups, built-in tables, the default rights and the shipped reminders up to date,
    and the sales funnel's facts when they are missing or were written for other stages;
    idempotent."""
    from kartoteka.access.services import ensure_default_rights
    from kartoteka.documents.shipped import ensure_shipped_templates
    from kartoteka.notifications.reminders import ensure_default_reminders

    ensure_default_groups()
    created = sync_builtin_tables(CATEGORIES, TABLES)
    if funnel_facts.ensure_current() is not None:
        created.append("funnel facts")
    created += ensure_default_rights() + ensure_default_reminders()
    return created + ensure_shipped_templates()


def init(verbosity: int = 1) -> list[str]:
    """Create or upgrade the database; make the first administrator when there is none; index
    the tables that have records but no search index yet (an upgrade from before search)."""
    call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
    created = sync()
    created += [f"search index {key}" for key in reindex_missing()]
    if not get_user_model().objects.exists():
        password = secrets.token_urlsafe(9)
        create_user(
            Actor.system("first start", source="cli"),
            username="admin",
            password=password,
            group=ADMIN_GROUP,
            full_name="Администратор",
            check_password=False,
        )
        write_credentials("admin", password)
        created.append("user admin")
    return created


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / CREDENTIALS_FILE


def write_credentials(username: str, password: str) -> None:
    path = credentials_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{username}\n{password}\n")


def read_credentials() -> tuple[str, str] | None:
    path = credentials_path()
    if not path.exists():
        return None
    lines = path.read_text().splitlines()
    return (lines[0], lines[1]) if len(lines) >= 2 else None
