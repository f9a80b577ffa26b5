"""``kartoteka user …``: the log-ins from the shell, through the same services as the pages.

    kartoteka user list [--json]
    kartoteka user disable U
    kartoteka user enable U
    kartoteka user set-password U --password P
    kartoteka user reset-two-factor U

The shell is the server's administrator: commands act as the system (audit source ``cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def cmd_user(args: argparse.Namespace) -> int:
    from kartoteka.accounts import services
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError

    actor = Actor.system("cli user", source="cli")
    try:
        if args.action == "list":
            return _list(services.list_users(actor), as_json=args.json)
        user = services.get_user(actor, args.username)
        if args.action == "reset-two-factor":
            return _reset_two_factor(actor, user)
        if args.action == "disable":
            changed = services.disable_user(actor, user)
            print(
                f"Доступ пользователя {user.username} отключён."
                if changed
                else f"Доступ пользователя {user.username} уже отключён."
            )
        elif args.action == "enable":
            changed = services.enable_user(actor, user)
            print(
                f"Доступ пользователя {user.username} включён."
                if changed
                else f"Доступ пользователя {user.username} уже включён."
            )
        else:
            services.set_password(actor, user, args.password)
            print(f"Пароль пользователя {user.username} изменён.")
    except KartotekaError as exc:
        print(f"Ошибка: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _reset_two_factor(actor: Any, user: Any) -> int:
    """A lost phone when no other administrator can reset it on the pages."""
    from kartoteka.profiles.twofactor import reset

    done = reset(actor, user)
    print(
        f"Двухфакторный вход пользователя {user.username} сброшен."
        if done
        else f"У пользователя {user.username} двухфакторный вход не включён."
    )
    return 0


def _list(rows: list[dict[str, Any]], *, as_json: bool) -> int:
    if as_json:
        for row in rows:
            row["last_login"] = row["last_login"].isoformat() if row["last_login"] else None
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        state = "включён" if row["is_active"] else "отключён"
        last = row["last_login"].strftime("%d.%m.%Y %H:%M") if row["last_login"] else "—"
        print(
            f"{row['username']}\t{row['full_name']}\t{row['group'] or '—'}\t{state}\t"
            f"вход: {last}\tнеудачных: {row['failed_logins']}"
        )
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("user", help="учётные записи сотрудников")
    user_sub = p.add_subparsers(dest="action", required=True)
    t = user_sub.add_parser("list", help="все пользователи: группа, доступ, последний вход")
    t.add_argument("--json", action="store_true", help="списком JSON")
    t.set_defaults(fn=cmd_user)
    for name, text in (
        ("disable", "отключить доступ"),
        ("enable", "включить доступ"),
        ("reset-two-factor", "сбросить двухфакторный вход (потерян телефон)"),
    ):
        t = user_sub.add_parser(name, help=text)
        t.add_argument("username", help="логин")
        t.set_defaults(fn=cmd_user)
    t = user_sub.add_parser("set-password", help="задать пароль")
    t.add_argument("username", help="логин")
    t.add_argument("--password", required=True)
    t.set_defaults(fn=cmd_user)
