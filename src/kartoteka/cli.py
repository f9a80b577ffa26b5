"""The ``kartoteka`` command: the contract that scripts, the Makefile and CI rely on.

    kartoteka init                      create or upgrade the database and built-in tables
    kartoteka createadmin --username U --password P [--email E]
    kartoteka createuser U --password P --group GROUP [--full-name "…"] [--email E]
    kartoteka demo [--if-empty]         load the demo company
    kartoteka serve [--host H] [--port N]
    kartoteka worker [--no-scheduler]   run background jobs and the reminder scheduler
    kartoteka run                       init + demo (first time) + worker + serve
    kartoteka export --table KEY --format csv|xlsx -o FILE [--filter FIELD=VALUE …] [--ids 1,2,3]
                     [--encoding cp1251|utf-8] [--delimiter ';'|',']
    kartoteka reindex [--table KEY]     rebuild the search index (of one table)
    kartoteka manage …                  any Django management command

Every command honours ``KARTOTEKA_DATA_DIR`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.config.settings")
    import django

    django.setup()


def _fail(message: str) -> int:
    print(f"Ошибка: {message}", file=sys.stderr)
    return 1


def cmd_init(args: argparse.Namespace) -> int:
    from kartoteka.crm.setup import init

    created = init()
    print("База данных готова." + (f" Создано: {len(created)} объектов." if created else ""))
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from kartoteka.core.actor import ADMIN_GROUP

    return _create_user(args.username, args.password, ADMIN_GROUP, args.full_name, args.email)


def cmd_createuser(args: argparse.Namespace) -> int:
    return _create_user(args.username, args.password, args.group, args.full_name, args.email)


def _create_user(username: str, password: str, group: str, full_name: str, email: str) -> int:
    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.crm.setup import sync

    sync()
    try:
        user = create_user(
            Actor.system("cli", source="cli"),
            username=username,
            password=password,
            group=group,
            full_name=full_name or username,
            email=email,
        )
    except KartotekaError as exc:
        return _fail(exc.message)
    print(f"Пользователь {user.username} создан (группа «{group}»).")  # type: ignore[attr-defined]
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from kartoteka.crm.demo import has_demo_data, load_demo

    if args.if_empty and has_demo_data():
        print("Демо-данные уже загружены.")
        return 0
    summary = load_demo(seed=args.seed, counterparties=args.counterparties)
    print("Демо-данные загружены: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    return 0


def _server_argv(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kartoteka.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        os.environ.get("WEB_CONCURRENCY", "2"),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    os.execv(sys.executable, _server_argv(args.host, args.port))
    return 0  # not reached


def cmd_worker(args: argparse.Namespace) -> int:
    """Background jobs (django-tasks' ``db_worker``) and, beside them in a thread, the scheduler
    that evaluates reminders every minute. Several workers may share one database."""
    import socket

    from django.core.management import call_command
    from django.utils.crypto import get_random_string

    worker_id = f"{socket.gethostname()}-{os.getpid()}-{get_random_string(6)}"[:64]
    if not args.no_scheduler:
        from kartoteka.notifications.scheduler import start_scheduler_thread

        start_scheduler_thread(worker_id)
    call_command("db_worker", interval=1, reload=False, worker_id=worker_id, queue_name="*")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from kartoteka.crm.demo import has_demo_data, load_demo
    from kartoteka.crm.setup import init, read_credentials

    init()
    if not has_demo_data():
        print("Загружаю демо-данные…", flush=True)
        load_demo()
    worker = subprocess.Popen([sys.executable, "-m", "kartoteka.cli", "worker"])
    server = subprocess.Popen(_server_argv(args.host, args.port))
    credentials = read_credentials()
    print("\n" + "=" * 60)
    print(f"Картотека работает: http://{args.host}:{args.port}/")
    if credentials:
        print(f"Вход: {credentials[0]} / {credentials[1]}")
    print("Остановить: Ctrl+C")
    print("=" * 60 + "\n", flush=True)

    def stop(*_args: Any) -> None:
        for proc in (server, worker):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = server.wait()
    finally:
        stop()
        worker.wait(timeout=10)
    return code


def cmd_export(args: argparse.Namespace) -> int:
    """Export a table's records to a file; nothing is written unless the whole file is."""
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError, RecordValidationError
    from kartoteka.exports.services import condition_from_text, export_records, save_export
    from kartoteka.records.selectors import get_table
    from kartoteka.tables.modelfactory import fields_of

    actor = Actor.system("cli export", source="cli")
    try:
        conditions = [condition_from_text(text) for text in args.filter]
        ids = None
        if args.ids is not None:
            try:
                ids = [int(part) for part in args.ids.replace(" ", "").split(",") if part]
            except ValueError:
                return _fail(f"--ids: ожидаются номера записей через запятую, а не «{args.ids}».")
        table = get_table(actor, args.table)
        export = export_records(
            actor,
            table,
            fmt=args.format.lower(),
            encoding=args.encoding,
            delimiter=args.delimiter,
            ids=ids,
            conditions=conditions,
        )
        rows = save_export(export, args.output)
    except RecordValidationError as exc:
        problems = "; ".join(f"фильтр по полю «{e.field}»: {e.message}" for e in exc.errors)
        if any(e.code == "unknown_field" for e in exc.errors):
            problems += " Поля таблицы: " + ", ".join(f.key for f in fields_of(table)) + "."
        return _fail(problems)
    except KartotekaError as exc:
        return _fail(exc.message)
    except OSError as exc:
        return _fail(f"не удалось записать «{args.output}»: {exc.strerror or exc}")
    print(f"Выгружено записей: {rows} → {args.output}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the search index of one table or of all tables."""
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.search.services import reindex

    try:
        counts = reindex(
            Actor.system("cli reindex", source="cli"), [args.table] if args.table else None
        )
    except KartotekaError as exc:
        return _fail(exc.message)
    for key, rows in counts.items():
        print(f"{key}: {rows}")
    print(f"Поисковый индекс перестроен: таблиц {len(counts)}, строк {sum(counts.values())}.")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kartoteka manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kartoteka", description="Картотека — CRM")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="создать или обновить базу").set_defaults(fn=cmd_init)

    p = sub.add_parser("createadmin", help="создать администратора")
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--email", default="")
    p.add_argument("--full-name", default="")
    p.set_defaults(fn=cmd_createadmin)

    p = sub.add_parser("createuser", help="создать пользователя")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--full-name", default="")
    p.add_argument("--email", default="")
    p.set_defaults(fn=cmd_createuser)

    p = sub.add_parser("demo", help="загрузить демо-данные")
    p.add_argument("--if-empty", action="store_true", help="только если их ещё нет")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--counterparties", type=int, default=300)
    p.set_defaults(fn=cmd_demo)

    for name, fn in (("serve", cmd_serve), ("run", cmd_run)):
        p = sub.add_parser(name, help="запустить веб-сервер" if name == "serve" else "всё сразу")
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        p.set_defaults(fn=fn)

    p = sub.add_parser("worker", help="фоновые задачи и напоминания")
    p.add_argument("--no-scheduler", action="store_true", help="без проверки напоминаний")
    p.set_defaults(fn=cmd_worker)

    p = sub.add_parser("export", help="выгрузить записи таблицы в CSV или XLSX")
    p.add_argument("--table", required=True, help="ключ таблицы, например counterparties")
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="ПОЛЕ=ЗНАЧЕНИЕ",
        help="условие (можно несколько, все должны выполняться); ПОЛЕ__op=ЗНАЧЕНИЕ, где op: "
        "eq, ne, contains, startswith, gt, lt, gte, lte",
    )
    p.add_argument("--ids", help="только эти записи: номера через запятую")
    p.add_argument("--format", required=True, help="csv или xlsx")
    p.add_argument("--encoding", default="cp1251", help="для CSV: cp1251 (по умолчанию) или utf-8")
    p.add_argument("--delimiter", default=";", help="для CSV: «;» (по умолчанию) или «,»")
    p.add_argument("-o", "--output", required=True, help="файл, в который выгрузить")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("reindex", help="перестроить поисковый индекс")
    p.add_argument("--table", help="только эта таблица (ключ, например counterparties)")
    p.set_defaults(fn=cmd_reindex)

    p = sub.add_parser("manage", help="команда Django")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup()
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
