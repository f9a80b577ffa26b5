"""Campaign benchmark: the audience of a 100,000-recipient e-mail campaign built and counted,
and the send rate of the worker to a local aiosmtpd beside bare ``smtplib`` to the same server.

    .venv/bin/python benchmarks/mailings.py --rows 100000 --send 2000            # SQLite
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/mailings.py              # PostgreSQL

1. N counterparties through the records service (a few with «Не отправлять рассылки», without
   an address or with an address twice), and a campaign to all of them.
2. The audience counted as the page does before sending, then written as recipient rows (the
   start): seconds and the peak RSS of the process (the goal: ≤ 30 s and < 400 MB).
3. ``--send`` letters sent by the campaign's job (claim, render, CSS inlined, send, record; no
   throttle) to aiosmtpd on loopback, and as many plain ``smtplib`` messages over one connection
   to the same server in the same run: messages per second of each.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import smtplib
import socket
import sys
import time
from email.message import EmailMessage

from _env import drop_database, setup_django


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=2000)
    args = parser.parse_args()
    created_db = setup_django()
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.db import connection

    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import ADMIN_GROUP, Actor
    from kartoteka.crm.setup import init
    from kartoteka.mailings import sending
    from kartoteka.mailings.audience import count_audience
    from kartoteka.mailings.services import create_campaign, start_campaign
    from kartoteka.records.services import create_records
    from kartoteka.tables.models import Table

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.received += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        init(verbosity=0)
        table = Table.objects.get(key="counterparties")
        system = Actor.system("benchmark", source="bench")
        n = args.rows
        start = time.perf_counter()
        for first in range(0, n, 5000):
            rows = []
            for i in range(first, min(n, first + 5000)):
                j = i - (i % 501 == 0)  # now and then the previous client's address again
                email = "" if i % 97 == 0 else f"client{j}@firma{j % 1000}.ru"
                rows.append({"name": f"Клиент {i}", "email": email, "no_mailing": i % 89 == 0})
            create_records(system, table, rows)
        made = time.perf_counter() - start
        print(f"database: {connection.vendor}; {n:,} counterparties made in {made:.0f} s")
        user = create_user(system, username="bench", password="Xk2#pLq9!vR", group=ADMIN_GROUP)
        actor = Actor.for_user(user)
        campaign = create_campaign(
            actor,
            table,
            {
                "name": "Прайс",
                "subject": "Прайс для {{ record.name }}",
                "body": "<p>Здравствуйте, {{ record.name }}!</p><p>Прайс во вложении.</p>",
            },
        )
        start = time.perf_counter()
        counts = count_audience(campaign)
        counted = time.perf_counter() - start
        start = time.perf_counter()
        written = start_campaign(actor, campaign.pk)
        started = time.perf_counter() - start
        assert counts == written, (counts, written)
        print(f"audience counted in {counted:.1f} s: {counts}")
        print(f"recipients written (start) in {started:.1f} s; peak RSS {peak_rss_mb():.0f} MB")

        controller.start()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = False
        m = args.send
        start = time.perf_counter()
        if os.environ.get("KARTOTEKA_BENCH_PROFILE"):
            import cProfile

            cProfile.runctx(
                "sending.run(campaign.pk, limit=m)", globals(), locals(), sort="cumulative"
            )
        else:
            sending.run(campaign.pk, limit=m)
        took = time.perf_counter() - start
        assert Sink.received == m, Sink.received
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", controller.port) as smtp:
            for i in range(m):
                message = EmailMessage()
                message["From"], message["To"] = "crm@example.ru", f"client{i}@firma.ru"
                message["Subject"] = f"Прайс для Клиент {i}"
                message.set_content(f"Здравствуйте, Клиент {i}!")
                smtp.send_message(message)
        bare = time.perf_counter() - start
        print(
            f"send {m:,}: campaign job {m / took:,.0f} msg/s ({took:.1f} s) | bare smtplib "
            f"{m / bare:,.0f} msg/s ({bare:.1f} s) | job/bare {took / bare:.1f}x"
        )
    finally:
        if getattr(controller, "_thread", None) is not None:
            controller.stop()
        drop_database(created_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
