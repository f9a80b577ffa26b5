"""The ``kartoteka`` command's contract with scripts and administrators.

Creating users runs in-process against the test database (like the import and export CLI tests).
``init``, ``serve`` and ``run`` run the installed console script in a subprocess on a data
directory of their own (and, when ``DATABASE_URL`` points at PostgreSQL, a database of their own):
what they promise — migrations, an idempotent second start, a production server — only shows in a
fresh installation.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from kartoteka.cli import main
from kartoteka.tables.modelfactory import model_for
from tests.e2e.conftest import _postgres_database
from tests.mail import free_port

KARTOTEKA = str(Path(sys.executable).with_name("kartoteka"))

SNAPSHOT = """
import json
import django; django.setup()
from kartoteka.tables.models import Choice, Field, Table
print(json.dumps({
    "tables": list(Table.objects.order_by("id").values()),
    "fields": list(Field.objects.order_by("id").values()),
    "choices": list(Choice.objects.order_by("id").values()),
}, default=str))
"""

ADD_FIELD = """
import django; django.setup()
from kartoteka.core.actor import Actor
from kartoteka.tables.models import Table
from kartoteka.tables.services import add_field
add_field(Actor.system("admin in the designer"), Table.objects.get(key="counterparties"),
          key="loyalty", label="Лояльность", type="text")
"""


# -- users -----------------------------------------------------------------------------------


def test_production_hashes_with_argon2():
    """The suite hashes with MD5 for speed (``tests/conftest.py``); the product never does."""
    from kartoteka.config import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in hasher for hasher in production.PASSWORD_HASHERS)


def test_createadmin_makes_an_administrator_who_can_log_in(crm, client, capsys, settings):
    # given: the product's hashers, not the suite's fast one
    from kartoteka.config import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    # when
    code = main(
        ["createadmin", "--username", "chief", "--password", "Xk2#pLq9!vR", "--email", "c@x.ru"]
    )
    # then
    user = get_user_model().objects.get(username="chief")
    assert code == 0
    assert capsys.readouterr().out == "Пользователь chief создан (группа «Администратор»).\n"
    assert user.password.startswith("argon2")
    assert (user.email, user.is_staff) == ("c@x.ru", True)
    assert [g.name for g in user.groups.all()] == ["Администратор"]
    response = client.post("/login/", {"username": "chief", "password": "Xk2#pLq9!vR"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/designer/").status_code == 200


def test_createuser_puts_the_user_in_the_group_with_an_employee_record(crm, table, capsys):
    # when
    code = main(
        [
            "createuser",
            "sidorov",
            "--password",
            "Xk2#pLq9!vR",
            "--group",
            "Менеджеры",
            "--full-name",
            "Иванов Иван",
            "--email",
            "s@x.ru",
        ]
    )
    # then
    user = get_user_model().objects.get(username="sidorov")
    assert code == 0
    assert capsys.readouterr().out == "Пользователь sidorov создан (группа «Менеджеры»).\n"
    assert [g.name for g in user.groups.all()] == ["Менеджеры"]
    assert (user.last_name, user.first_name, user.is_staff) == ("Иванов", "Иван", False)
    employee = model_for(table("employees")).objects.get(user_id=user.pk)
    assert (employee.full_name, employee.email, employee.access_group) == (
        "Иванов Иван",
        "s@x.ru",
        "Менеджеры",
    )


def test_createuser_with_an_unknown_group_fails_clearly_and_creates_nothing(crm, table, capsys):
    # given
    users_before = get_user_model().objects.count()
    employees_before = model_for(table("employees")).objects.count()
    groups_before = Group.objects.count()
    # when
    code = main(["createuser", "petrov", "--password", "Xk2#pLq9!vR", "--group", "Продавцы"])
    # then
    out, err = capsys.readouterr()
    assert code == 1
    assert (out, err) == ("", "Ошибка: Нет группы «Продавцы».\n")
    assert get_user_model().objects.count() == users_before
    assert model_for(table("employees")).objects.count() == employees_before
    assert Group.objects.count() == groups_before


# -- a fresh installation --------------------------------------------------------------------


def _installation(data_dir, name):
    """The environment of a fresh installation: its own data directory and database."""
    env = {**os.environ, "KARTOTEKA_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pg_url = os.environ.get("DATABASE_URL", "")
    name = f"kartoteka_cli_{name}_{os.getpid()}"
    if pg_url.startswith("postgres"):
        env["DATABASE_URL"] = _postgres_database(pg_url, name)
    yield env
    if pg_url.startswith("postgres"):
        _postgres_database(pg_url, name, drop_only=True)


@pytest.fixture
def installation(tmp_path):
    yield from _installation(tmp_path, "fresh")


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """An installation after ``init`` with a small company loaded (so ``run`` loads no demo)."""
    data_dir = tmp_path_factory.mktemp("company")
    for env in _installation(data_dir, "company"):
        _kartoteka(env, "init")
        _kartoteka(env, "demo", "--counterparties", "3")
        yield env


def _kartoteka(env, *args):
    done = subprocess.run([KARTOTEKA, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _python(env, code):
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "kartoteka.config.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_init_twice_creates_nothing_new_and_keeps_an_administrators_field(installation):
    # given: a first start, then a field an administrator added to «Контрагенты»
    first = _kartoteka(installation, "init")
    _python(installation, ADD_FIELD)
    before = json.loads(_python(installation, SNAPSHOT))
    # when
    second = _kartoteka(installation, "init")
    # then
    after = json.loads(_python(installation, SNAPSHOT))
    assert re.fullmatch(r"База данных готова\. Создано: \d+ объектов\.\n", first)
    assert second == "База данных готова.\n"
    assert after == before
    added = [f for f in after["fields"] if f["key"] == "loyalty"]
    assert [(f["label"], f["type"]) for f in added] == [("Лояльность", "text")]


def _wait_for(url, proc, log):
    for _ in range(150):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status, response.read().decode()
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(log()) from None
            time.sleep(0.2)
    raise AssertionError("no answer from " + url + "\n" + log())


def test_serve_runs_gunicorn_which_answers_the_log_in_page(company, tmp_path):
    # given
    port = free_port()
    log_path = tmp_path / "serve.log"
    # when
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [KARTOTEKA, "serve", "--port", str(port)],
            env=company,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        status, html = _wait_for(f"http://127.0.0.1:{port}/login/", proc, log_path.read_text)
        # then: the command became gunicorn (it execs the server in place of itself)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert status == 200
        assert "Войдите, чтобы продолжить" in html
        assert cmdline[1:5] == [b"-m", b"gunicorn", b"kartoteka.config.wsgi:application", b"--bind"]
        assert cmdline[5] == f"127.0.0.1:{port}".encode()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "gunicorn" in log_path.read_text().lower()


def test_run_prints_the_address_and_the_administrators_log_in(company):
    # given
    credentials = Path(company["KARTOTEKA_DATA_DIR"]) / "admin-credentials.txt"
    username, password = credentials.read_text().split()[:2]
    port = free_port()
    # when
    proc = subprocess.Popen(
        [KARTOTEKA, "run"],
        env={**company, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    read: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [read.put(line) for line in proc.stdout])
    reader.start()
    try:
        lines = _lines_until(proc, read, "Остановить", seconds=120)
        status, _html = _wait_for(f"http://127.0.0.1:{port}/login/", proc, lambda: "".join(lines))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        # The reader ends at the end of the output; then the pipe is closed, not left to the GC.
        reader.join(timeout=30)
        proc.stdout.close()
    # then
    assert f"Картотека работает: http://127.0.0.1:{port}/\n" in lines
    assert f"Вход: {username} / {password}\n" in lines
    assert username == "admin"
    assert status == 200


def _lines_until(proc, read, marker, *, seconds):
    """The process's output lines (put in the queue ``read``) up to the first one containing
    ``marker``."""
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = read.get(timeout=1)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError("no line with " + marker + " in:\n" + "".join(lines))


def test_serve_runs_gunicorn_without_a_control_socket_shared_by_instances():
    from gunicorn.config import Config

    from kartoteka.cli import _server_argv

    argv = _server_argv("127.0.0.1", 8000)
    options = Config().parser().parse_args(argv[argv.index("gunicorn") + 1 :])
    assert options.control_socket_disable is True
    assert options.bind == ["127.0.0.1:8000"]
