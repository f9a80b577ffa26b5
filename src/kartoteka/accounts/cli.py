"""``kartoteka user …``: the log-ins from the shell, through the same services as the pages.

    kartoteka user list [--json]
    kartoteka user disable U
    kartoteka user enable U
    kartoteka user set-password U --password P
    kartoteka user invite U --email E [--group G] [--full-name "…"]
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
        if args.action == "invite":
            return _invite(actor, args)
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


def _invite(actor: Any, args: argparse.Namespace) -> int:
    """Mail the invitation, or print its link when outgoing mail is not set up."""
    from kartoteka.accounts import invitations

    send = invitations.mail_configured()
    letter = invitations.invite_by_login(
        actor,
        args.username,
        email=args.email,
        group=args.group,
        full_name=args.full_name,
        send=send,
    )
    hours = invitations.INVITATION_HOURS
    login = letter.user.username
    if send and letter.sent is not False:  # ``None``: leaves when the transaction commits
        print(f"Приглашение отправлено на {letter.email}: {login} задаст пароль по ссылке.")
        return 0
    if send:
        print(f"Ошибка: письмо не отправлено ({letter.error}).", file=sys.stderr)
    else:
        print("Почта не настроена (EMAIL_HOST), письмо не отправлено.")
    print(f"Передайте пользователю {login} ссылку для пароля (действует {hours} ч, один раз):")
    print(letter.link)
    if letter.link.startswith("/"):
        print("Допишите перед ней адрес сервера или задайте KARTOTEKA_BASE_URL.")
    return 1 if send else 0


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
        state = "включён" if row["has_password"] else "приглашён"
        if not row["is_active"]:
            state = "отключён"
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
    t = user_sub.add_parser("invite", help="пригласить по e-mail (создать, если нет)")
    t.add_argument("username", help="логин")
    t.add_argument("--email", required=True)
    t.add_argument("--group", default="Менеджеры", help="группа нового пользователя")
    t.add_argument("--full-name", default="", help="«Фамилия Имя Отчество» нового пользователя")
    t.set_defaults(fn=cmd_user)
    t = user_sub.add_parser("set-password", help="задать пароль")
    t.add_argument("username", help="логин")
    t.add_argument("--password", required=True)
    t.set_defaults(fn=cmd_user)
