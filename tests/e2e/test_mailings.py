"""Campaigns against the real server: a campaign made in the browser from a saved view,
previewed, tested on oneself, sent by ``kartoteka mailing send`` to an SMTP server on loopback,
its progress watched, and a recipient unsubscribing from the letter he got; and a sending
process killed with SIGKILL in the middle of a campaign, which a second run finishes without
sending any recorded recipient twice."""

from __future__ import annotations

import asyncio
import email
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from email import policy

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, _free_port
from tests.e2e.test_journey import login
from tests.mail import FROM_EMAIL, Inbox

pytestmark = pytest.mark.e2e

SETUP = """
import json, sys
import django; django.setup()
from django.contrib.auth import get_user_model
from kartoteka.core.actor import Actor
from kartoteka.grids.models import SavedView
from kartoteka.records.services import create_records
from kartoteka.tables.models import Table
prefix, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with_view, username = sys.argv[4] == "1", sys.argv[5]
table = Table.objects.get(key="counterparties")
rows = [{"name": f"{prefix} {i:04d}", "email": f"{tag}{i}@shop.example"} for i in range(count)]
ids = [r.pk for r in create_records(Actor.system("test"), table, rows)]
admin = get_user_model().objects.get(username=username)
admin.email = "boss@crm.example"
admin.save(update_fields=["email"])
out = {"ids": ids}
if with_view:
    view = SavedView.objects.create(table=table, name=f"Клиенты {prefix}", owner=admin,
                                    search=prefix)
    out["view"] = view.pk
else:
    from kartoteka.mailings.services import create_campaign, start_campaign
    actor = Actor.for_user(admin)
    c = create_campaign(actor, table, {"name": prefix, "subject": "Привет, {{ record.name }}",
                                       "body": "Здравствуйте, {{ record.name }}!",
                                       "record_ids": ids})
    start_campaign(actor, c.pk)
    out["campaign"] = c.pk
print(json.dumps(out), flush=True)
if not with_view:  # go on sending in this process (the test kills it in the middle)
    from kartoteka.mailings import sending
    sending.run(out["campaign"])
"""


def _python(server, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SETUP, *args],
        env=_env(server),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class SlowInbox(Inbox):
    """Takes a few milliseconds a letter, as a real server would: the campaign lasts long enough
    to be killed in the middle."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_inbox():
    """A slow SMTP server of this test's own (the shared server's inbox answers at once)."""
    box = SlowInbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


def _env(server, smtp_port: int | None = None) -> dict:
    """The server's environment for a process of the test's; its mail to ``smtp_port`` if given."""
    port = {"EMAIL_PORT": str(smtp_port)} if smtp_port else {}
    return {
        **server.env,
        **port,
        "DEFAULT_FROM_EMAIL": FROM_EMAIL,
        "DJANGO_SETTINGS_MODULE": "kartoteka.config.settings",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }


def test_campaign_from_a_saved_view_to_unsubscribe(page, server):
    seen = len(server.inbox.messages)
    # given: three clients in a saved view
    made = _python(server, "Зюзликов", "zuz", "3", "1", server.username)
    login(page, server)
    # when: a campaign is made from the view
    page.goto(server.url + "/mailings/")
    page.get_by_role("button", name="Новая рассылка").click()
    page.fill("#id_name", "Прайс-лист")
    page.select_option("#id_saved_view", str(made["view"]))
    page.fill("#id_subject", "Прайс для {{ record.name }}")
    page.fill("#id_body", "<p>Здравствуйте, {{ record.name }}!</p>")
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_test_id("audience-count")).to_have_text("3")
    page.screenshot(path=str(ARTIFACTS / "mailing-draft.png"), full_page=True)
    campaign = int(re.search(r"/mailings/(\d+)/", page.url).group(1))
    # then: the preview shows the first recipient's letter, the test goes to oneself
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Прайс для Зюзликов 0000")
    page.go_back()
    page.get_by_test_id("test").click()
    expect(page.get_by_role("alert")).to_contain_text("boss@crm.example")
    assert [r for _f, r, _raw in server.inbox.messages[seen:]] == [["boss@crm.example"]]
    # when: it is sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("campaign-state")).to_have_text("отправляется")
    subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "mailing", "send", str(campaign)],
        env=_env(server),
        check=True,
        capture_output=True,
        timeout=120,
    )
    # then: the progress bar fills without a reload
    expect(page.get_by_test_id("campaign-state")).to_have_text("завершена", timeout=30_000)
    expect(page.get_by_role("progressbar")).to_contain_text("100%")
    letters = {r[0]: raw for _f, r, raw in server.inbox.messages[seen + 1 :]}
    assert sorted(letters) == [f"zuz{i}@shop.example" for i in range(3)]
    # when: a recipient unsubscribes from the letter
    letter = email.message_from_bytes(letters["zuz1@shop.example"], policy=policy.default)
    html = letter.get_body(("html",)).get_content()
    link = re.search(r'href="(http[^"]+/m/u/[^"]+)"', html).group(1)
    page.goto(server.url + re.sub(r"^https?://[^/]+", "", link))
    page.get_by_test_id("confirm-unsubscribe").click()
    # then
    expect(page.get_by_test_id("unsubscribe")).to_contain_text("Вы отписались от рассылки")
    page.goto(f"{server.url}/t/counterparties/{made['ids'][1]}/")
    expect(page.get_by_test_id("history")).to_contain_text(
        f"Отписка от рассылки (рассылка №{campaign})"
    )
    expect(page.get_by_test_id("card-mailings")).to_contain_text("отписался")


def test_a_killed_sender_resumes_without_sending_anyone_twice(server, slow_inbox):
    inbox = slow_inbox
    # given: a process that starts a campaign of 100 letters and sends it
    proc = subprocess.Popen(
        [sys.executable, "-c", SETUP, "Килбергов", "kil", "100", "0", server.username],
        env=_env(server, inbox.port),
        stdout=subprocess.PIPE,
        text=True,
    )
    campaign = json.loads(proc.stdout.readline())["campaign"]
    # when: it is killed with SIGKILL in the middle
    deadline = time.monotonic() + 60
    while len(inbox.messages) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    killed_at = len(inbox.messages)
    # and «kartoteka mailing send» goes on
    again = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "mailing", "send", str(campaign), "--json"],
        env=_env(server, inbox.port),
        check=True,
        capture_output=True,
        timeout=120,
    )
    status = json.loads(again.stdout)
    # then: everyone got the letter; at most the one in flight at the kill got it twice
    received = Counter(r[0] for _f, r, _raw in inbox.messages)
    assert 20 <= killed_at < 100
    assert set(received) == {f"kil{i}@shop.example" for i in range(100)}
    assert sum(received.values()) - 100 <= 1
    assert (status["state"], status["recipients"]["sent"]) == ("done", 100)
