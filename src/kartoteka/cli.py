"""The ``kartoteka`` command: the contract that scripts, the Makefile and CI rely on.

    kartoteka init                      create or upgrade the database and built-in tables
    kartoteka createadmin --username U --password P [--email E]
    kartoteka createuser U --password P --group GROUP [--full-name "…"] [--email E]
    kartoteka user list [--json] | disable U | enable U | set-password U --password P
    kartoteka user invite U --email E [--group G]   e-mail a link to set the password
    kartoteka demo [--if-empty]         load the demo company
    kartoteka serve [--host H] [--port N]
    kartoteka worker [--no-scheduler]   run background jobs and the reminder scheduler
    kartoteka run                       init + demo (first time) + worker + serve
    kartoteka export --table KEY --format csv|xlsx -o FILE [--filter FIELD=VALUE …] [--ids 1,2,3]
                     [--encoding cp1251|utf-8] [--delimiter ';'|',']
    kartoteka reindex [--table KEY]     rebuild the search index (of one table)
    kartoteka token create --user U [--name NAME]   create a personal API token (printed once)
    kartoteka token revoke ID           revoke an API token
    kartoteka import FILE --table KEY [--template NAME] [--encoding auto|utf-8|cp1251|koi8-r|
                     cp866|utf-16] [--delimiter auto|';'|','|tab|'|'] [--no-header] [--sheet N]
                     [--header-row N]
                     [--map "COLUMN=field" …] [--key FIELD] [--on-duplicate update|skip]
                     [--keep-filled|--overwrite-empty] [--set field=VALUE …] [--dry-run]
                     [--save-template NAME] [--user USERNAME] [--json]
    kartoteka import-undo BATCH [--json]
    kartoteka mailing send ID [--json] | status ID [--json]   campaigns
    kartoteka import-resume BATCH [--user USERNAME] [--json]   go on with an interrupted import
    kartoteka backup -o FILE            the database and uploaded files in one archive
    kartoteka restore FILE [--force]    put a backup back (refuses over data unless --force)
    kartoteka manage …                  any Django management command

Every command honours ``KARTOTEKA_DATA_DIR`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.config.settings")
    import django
    from django.apps import apps

    # Once per process: a second ``django.setup()`` (``main()`` called from code that already
    # runs Django, as the tests do) configures logging again, and the new console handler keeps
    # whatever ``sys.stderr`` is at that moment, a stream that may be closed by the time a
    # later log line arrives («--- Logging error ---»).
    if not apps.ready:
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
        # gunicorn's control socket would sit at one fixed path under the user's home, shared by
        # every instance on the machine; nothing here uses it.
        "--no-control-socket",
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
    from kartoteka.imports.services import settle_all

    settle_all()  # jobs whose process died while no worker ran say so
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


def cmd_document(args: argparse.Namespace) -> int:
    """Make a document from a record by a template's name; the copy is kept on the record."""
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.documents import selectors as documents
    from kartoteka.documents.services import formats_of, generate_document, read_document
    from kartoteka.records.selectors import get_table

    actor = Actor.system("cli document", source="cli")
    try:
        table = get_table(actor, args.table)
        template = documents.get_template(actor, table=table, name=args.template)
        if args.format not in formats_of(template):
            return _fail(
                f"шаблон «{template.name}» не даёт формат «{args.format}»; доступно: "
                + ", ".join(formats_of(template))
            )
        doc = generate_document(actor, template, args.id, args.format)
        data = read_document(actor, doc)
    except KartotekaError as exc:
        return _fail(exc.message)
    try:
        with open(args.output, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        return _fail(f"не удалось записать «{args.output}»: {exc.strerror or exc}")
    print(f"Документ «{doc.name}» (№{doc.pk}) → {args.output}")
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


def cmd_token(args: argparse.Namespace) -> int:
    """Create (prints the secret, the only time it is shown) or revoke a personal API token."""
    from kartoteka.api import tokens
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError

    actor = Actor.system("cli token", source="cli")
    try:
        if args.action == "create":
            created = tokens.create_token_for(actor, args.user, args.name)
            print(created.secret)
        else:
            token = tokens.revoke_token(actor, args.id)
            print(f"Токен «{token.name}» пользователя {token.user.username} отозван.")
    except KartotekaError as exc:
        return _fail(exc.message)
    return 0


def _import_settings(args: argparse.Namespace, table: Any, headers_of: Any) -> Any:
    """The import settings from a template (if named) overridden by the options given."""
    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.readers import ImportFileError
    from kartoteka.imports.services import get_template

    if args.template:
        settings = ImportSettings.from_json(get_template(table, args.template).settings)
    else:
        settings = ImportSettings()
    for name in ("encoding", "delimiter", "key", "on_duplicate", "keep_filled"):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, name, value)
    if args.no_header:
        settings.header = False
    if args.sheet is not None:
        settings.sheet = args.sheet - 1 if args.sheet > 0 else 0
    if getattr(args, "header_row", None) is not None:
        settings.header_row = args.header_row
    for text in args.set:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ImportFileError(f"--set: ожидается «поле=значение», а не «{text}».")
        settings.defaults[name.strip()] = value
    if args.map:
        headers = headers_of(settings)
        mapping = []
        for text in args.map:
            column, sep, field = text.rpartition("=")
            if not sep or not column.strip() or not field.strip():
                raise ImportFileError(f"--map: ожидается «СТОЛБЕЦ=поле», а не «{text}».")
            mapping.append(_column(column.strip(), field.strip(), headers, settings.header))
        settings.mapping = mapping
    settings.check()
    return settings


def _column(column: str, field: str, headers: list[str], header: bool) -> Any:
    from kartoteka.imports.options import ColumnMapping
    from kartoteka.imports.readers import ImportFileError
    from kartoteka.tables.fieldtypes.choice import fold

    folded = [fold(h) for h in headers]
    if header and fold(column) in folded:
        index = folded.index(fold(column))
        return ColumnMapping(column=index, field=field, header=headers[index])
    if column.isdigit() and int(column) >= 1:
        index = int(column) - 1
        name = headers[index] if header and index < len(headers) else ""
        return ColumnMapping(column=index, field=field, header=name)
    raise ImportFileError(
        f"--map: в файле нет столбца «{column}». Столбцы: " + ", ".join(headers) + "."
    )


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, ensure_ascii=False))


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file into a table; exit 0 when the import ran (even with bad rows)."""
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.imports import services
    from kartoteka.records.selectors import get_table

    name = os.path.basename(args.file)
    try:
        actor = _cli_actor(args.user)
        table = get_table(actor, args.table)

        def headers_of(settings: Any) -> list[str]:
            opened = services.open_file(args.file, name, settings)
            return opened.header_and_rows()[0]

        settings = _import_settings(args, table, headers_of)
        if args.dry_run:
            result = services.dry_run(actor, table, args.file, name, settings)
        else:
            result = services.run_import(actor, table, args.file, name, settings)
        if args.save_template:
            services.save_template(actor, table, args.save_template, settings, headers_of(settings))
    except KartotekaError as exc:
        return _refuse(args, exc.message)
    if args.json:
        _print_json(result.as_json())
        return 0
    if args.dry_run:
        print("Пробный запуск (ничего не записано).")
        for plan in result.plans:
            _print_plan(plan)
    else:
        print(f"Импорт №{result.batch}.")
    print(
        f"Создано: {result.created}, обновлено: {result.updated}, пропущено: {result.skipped}, "
        f"ошибок: {result.error_count}."
    )
    for error in result.errors[:50]:
        column = f" [{error.column}]" if error.column else ""
        print(f"  строка {error.row}{column}: {error.message}")
    if result.error_count > 50:
        print(f"  … и ещё {result.error_count - 50}")
    return 0


def _print_plan(plan: Any) -> None:
    if plan.action == "error":
        text = "; ".join(f"{e.column}: {e.message}" for e in plan.errors)
        print(f"  строка {plan.row}: ошибка — {text}")
    elif plan.action == "skip":
        print(f"  строка {plan.row}: пропуск — {plan.reason}")
    elif plan.action == "update":
        changes = ", ".join(f"{label}: «{old}» → «{new}»" for label, old, new in plan.changes)
        print(f"  строка {plan.row}: обновление №{plan.record_id} — {changes}")
    else:
        changes = ", ".join(f"{label}: «{new}»" for label, _old, new in plan.changes)
        print(f"  строка {plan.row}: создание — {changes}")


def _refuse(args: argparse.Namespace, message: str) -> int:
    """Say why a command could not run: as ``{"error": …}`` too when JSON was asked for."""
    if getattr(args, "json", False):
        _print_json({"error": message})
    return _fail(message)


def _cli_actor(username: str | None) -> Any:
    from django.contrib.auth import get_user_model

    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import NotFound

    if not username:
        return Actor.system("cli import", source="cli")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"Пользователь «{username}» не найден.")
    return Actor.for_user(user, source="cli")


def cmd_import_undo(args: argparse.Namespace) -> int:
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.imports.models import ImportBatch
    from kartoteka.imports.services import undo_import

    batch = ImportBatch.objects.select_related("table").filter(pk=args.batch).first()
    if batch is None:
        message = f"Импорт №{args.batch} не найден."
        return _refuse(args, message)
    try:
        report = undo_import(Actor.system("cli import-undo", source="cli"), batch)
    except KartotekaError as exc:
        return _refuse(args, exc.message)
    if args.json:
        _print_json({"batch": batch.pk, **report})
        return 0
    print(
        f"Импорт №{batch.pk} отменён: удалено {report['deleted']}, "
        f"восстановлено {report['restored']}, оставлено как есть {len(report['kept'])}."
    )
    for item in report["kept"]:
        print(f"  запись №{item['record']}: {item['reason']}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write the database and the uploaded files into one archive while the installation works."""
    from django.conf import settings

    from kartoteka.backups.archive import BackupError
    from kartoteka.backups.services import make_backup

    try:
        report = make_backup(
            args.output, data_dir=settings.DATA_DIR, database=settings.DATABASES["default"]
        )
    except BackupError as exc:
        return _fail(exc.message)
    counts = report.manifest.counts
    print(
        f"Резервная копия записана: {report.path} ({_kind(report.manifest.database)}; "
        f"записей: {sum(counts['records'].values())}, записей истории: {counts['history']}, "
        f"файлов: {report.media_files}; {report.size / 1024 / 1024:.1f} МБ)."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the installation's database and uploaded files with those of a backup."""
    from django.conf import settings

    from kartoteka.backups.archive import BackupError
    from kartoteka.backups.services import restore_backup

    try:
        report = restore_backup(
            args.file,
            data_dir=settings.DATA_DIR,
            database=settings.DATABASES["default"],
            force=args.force,
        )
    except BackupError as exc:
        return _fail(exc.message)
    counts = report.manifest.counts
    print(
        f"Восстановлено из {args.file} (копия от {report.manifest.created_at}, "
        f"{_kind(report.manifest.database)}): записей: {sum(counts['records'].values())}, "
        f"записей истории: {counts['history']}, файлов: {report.media_files}."
    )
    if report.upgrade_needed:
        print("Копия сделана более старой версией: выполните «kartoteka init» — он обновит базу.")
    return 0


def _kind(database: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(database, database)


def cmd_import_resume(args: argparse.Namespace) -> int:
    """Go on with an interrupted import from its first row not written, now."""
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.imports.models import ImportBatch
    from kartoteka.imports.services import resume_import

    batch = ImportBatch.objects.select_related("table").filter(pk=args.batch).first()
    if batch is None:
        message = f"Импорт №{args.batch} не найден."
        return _refuse(args, message)
    try:
        row = batch.next_row
        actor = _cli_actor(args.user)
        batch = resume_import(actor, batch, background=False)
    except KartotekaError as exc:
        return _refuse(args, exc.message)
    if batch.status != ImportBatch.DONE:
        return _refuse(args, batch.message)
    summary = {
        "batch": batch.pk,
        "from_row": row,
        "created": batch.created,
        "updated": batch.updated,
        "skipped": batch.skipped,
        "errors": batch.error_count,
    }
    if args.json:
        _print_json(summary)
        return 0
    print(
        f"Импорт №{batch.pk} продолжен со строки {row} и закончен. Создано: {batch.created}, "
        f"обновлено: {batch.updated}, пропущено: {batch.skipped}, ошибок: {batch.error_count}."
    )
    return 0


def cmd_rebuild_funnel(args: argparse.Namespace) -> int:
    """Write the sales funnel's stage-entered facts again from the work log."""
    from kartoteka.crm.funnel_facts import rebuild

    started = time.monotonic()
    written = rebuild()
    print(f"Факты воронки продаж перестроены: {written} за {time.monotonic() - started:.1f} с.")
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

    from kartoteka.accounts.cli import add_parser as add_user_parser

    add_user_parser(sub)

    from kartoteka.mailings.cli import add_parser as add_mailing_parser

    add_mailing_parser(sub)

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

    p = sub.add_parser("document", help="сделать документ из записи по шаблону")
    p.add_argument("--table", required=True, help="ключ таблицы, например counterparties")
    p.add_argument("--id", required=True, type=int, help="номер записи")
    p.add_argument(
        "--template", required=True, help="название шаблона, например «Договор поставки»"
    )
    p.add_argument(
        "--format", required=True, choices=("pdf", "docx", "html"), help="pdf, docx или html"
    )
    p.add_argument("-o", "--output", required=True, help="файл, в который записать документ")
    p.set_defaults(fn=cmd_document)

    p = sub.add_parser("reindex", help="перестроить поисковый индекс")
    p.add_argument("--table", help="только эта таблица (ключ, например counterparties)")
    p.set_defaults(fn=cmd_reindex)

    p = sub.add_parser("token", help="токены API")
    token_sub = p.add_subparsers(dest="action", required=True)
    t = token_sub.add_parser("create", help="создать токен и напечатать его")
    t.add_argument("--user", required=True, help="имя пользователя — владельца токена")
    t.add_argument("--name", default="CLI", help="название токена (по умолчанию «CLI»)")
    t.set_defaults(fn=cmd_token)
    t = token_sub.add_parser("revoke", help="отозвать токен")
    t.add_argument("id", type=int, help="номер токена")
    t.set_defaults(fn=cmd_token)
    p = sub.add_parser("import", help="загрузить файл CSV/XLS/XLSX/ODS в таблицу")
    p.add_argument("file", help="файл .csv, .txt, .xls, .xlsx или .ods")
    p.add_argument("--table", required=True, help="ключ таблицы, например counterparties")
    p.add_argument("--template", help="шаблон импорта (его настройки; параметры ниже важнее)")
    p.add_argument("--encoding", help="auto, utf-8, cp1251, koi8-r, cp866, utf-16")
    p.add_argument("--delimiter", help="auto, ';', ',', tab, '|'")
    p.add_argument("--no-header", action="store_true", help="в первой строке данные, не заголовки")
    p.add_argument("--sheet", type=int, help="номер листа, с 1")
    p.add_argument(
        "--header-row",
        type=int,
        metavar="N",
        help="строка с названиями столбцов (с 1, среди непустых строк); по умолчанию — найти",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="СТОЛБЕЦ=поле",
        help="столбец (название или номер с 1) → поле; без --map — по названиям столбцов",
    )
    p.add_argument("--key", help="ключевое поле для поиска повторов (по умолчанию — уникальное)")
    p.add_argument("--on-duplicate", choices=["update", "skip"], help="повтор: обновить/пропустить")
    filled = p.add_mutually_exclusive_group()
    filled.add_argument(
        "--keep-filled",
        dest="keep_filled",
        action="store_true",
        default=None,
        help="пустая ячейка не стирает заполненное значение (по умолчанию)",
    )
    filled.add_argument(
        "--overwrite-empty",
        dest="keep_filled",
        action="store_false",
        help="пустая ячейка очищает значение",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="поле=ЗНАЧЕНИЕ",
        help="значение для новых записей, если в файле пусто",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="показать, что будет, ничего не записывая"
    )
    p.add_argument("--save-template", metavar="NAME", help="сохранить настройки как шаблон")
    p.add_argument("--user", help="от имени пользователя (логин)")
    p.add_argument("--json", action="store_true", help="итог одним объектом JSON")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser("import-undo", help="отменить импорт")
    p.add_argument("batch", type=int, help="номер импорта")
    p.add_argument("--json", action="store_true", help="итог одним объектом JSON")
    p.set_defaults(fn=cmd_import_undo)

    p = sub.add_parser("import-resume", help="продолжить прерванный импорт")
    p.add_argument("batch", type=int, help="номер импорта")
    p.add_argument("--user", help="от имени пользователя (по умолчанию — администратор)")
    p.add_argument("--json", action="store_true", help="итог одним объектом JSON")
    p.set_defaults(fn=cmd_import_resume)

    p = sub.add_parser("backup", help="резервная копия: база и загруженные файлы в одном архиве")
    p.add_argument("-o", "--output", required=True, help="файл архива, например backup.tar.gz")
    p.set_defaults(fn=cmd_backup)

    p = sub.add_parser("restore", help="восстановить установку из резервной копии")
    p.add_argument("file", help="архив, сделанный «kartoteka backup»")
    p.add_argument(
        "--force", action="store_true", help="заменить уже имеющиеся данные и файлы установки"
    )
    p.set_defaults(fn=cmd_restore)

    sub.add_parser(
        "rebuild-funnel", help="перестроить факты воронки продаж из журнала работы"
    ).set_defaults(fn=cmd_rebuild_funnel)
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
