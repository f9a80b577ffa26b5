"""``kartoteka mailing …``: campaigns from the shell.

    kartoteka mailing send ID [--json]     start a draft (or go on with a paused one) and send
                                            in this process until nothing is due
    kartoteka mailing status ID [--json]   the campaign's state and recipients by state

The shell is the server's administrator: commands act as the system.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _status(campaign: Any) -> dict[str, Any]:
    from kartoteka.mailings.selectors import progress

    p = progress(campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "channel": campaign.channel,
        "state": campaign.state,
        "reason": campaign.reason,
        "recipients": p["totals"],
        "percent": p["percent"],
    }


def cmd_mailing(args: argparse.Namespace) -> int:
    from kartoteka.cli import _refuse
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import KartotekaError
    from kartoteka.mailings import sending, services
    from kartoteka.mailings.models import Campaign

    actor = Actor.system("cli mailing", source="cli")
    campaign = Campaign.objects.filter(pk=args.id).first()
    if campaign is None:
        return _refuse(args, f"Рассылка №{args.id} не найдена.")
    if args.action == "send":
        try:
            if campaign.state == Campaign.DRAFT:
                services.start_campaign(actor, campaign.pk)
            elif campaign.state == Campaign.PAUSED:
                services.resume_campaign(actor, campaign.pk)
        except KartotekaError as exc:
            return _refuse(args, exc.message)
        sending.run(campaign.pk)
        campaign.refresh_from_db()
    data = _status(campaign)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    totals = data["recipients"]
    print(f"Рассылка №{campaign.pk} «{campaign.name}»: {campaign.get_state_display()}")
    print(
        f"  отправлено {totals['sent']}, в очереди {totals['queued']}, ошибок {totals['failed']},"
        f" пропущено {totals['skipped']}, отписались {totals['unsubscribed']}"
    )
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("mailing", help="рассылки: отправить, узнать состояние")
    p.add_argument("action", choices=["send", "status"])
    p.add_argument("id", type=int, help="номер рассылки")
    p.add_argument("--json", action="store_true", help="итог одним объектом JSON")
    p.set_defaults(fn=cmd_mailing)
