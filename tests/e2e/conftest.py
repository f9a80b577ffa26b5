"""Browser tests run against a real server: ``kartoteka init``, ``demo`` and ``serve`` in a
subprocess with its own data directory (and, when ``DATABASE_URL`` points at PostgreSQL, its own
database), driven by Playwright in Debian's Chromium. The server mails to a local aiosmtpd server
(``server.inbox``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.installs import copy_of
from tests.mail import Inbox

CHROMIUM = "/usr/bin/chromium"

# Playwright's assertions retry for 5 s by default. On this project's 2-core machines, with the
# other half of the suite, a second server and a second browser running beside a test, one page
# of our server can take longer than that, and a correct page then fails its check. A check that
# holds returns at once; only a failing one waits longer.
expect.set_options(timeout=20_000)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: The server takes a web form's submission only this long after the form was shown (bots send
#: at once; production waits 3 s): a visitor in these tests waits a little longer, not 3 s.
WEBFORM_MIN_SECONDS = 1
WEBFORM_WAIT_MS = WEBFORM_MIN_SECONDS * 1000 + 200


@dataclass
class Server:
    url: str
    username: str
    password: str
    env: dict[str, str]
    log: Path | None = None
    #: The letters the server sent (a local aiosmtpd server; links start with ``url``).
    inbox: Inbox | None = None

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "kartoteka.cli", *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_database(url: str, name: str, *, drop_only: bool = False) -> str:
    import psycopg

    base, _sep, _db = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    pg_url = os.environ.get("DATABASE_URL", "")
    e2e_db = f"kartoteka_e2e_{os.getpid()}"
    # ``init`` and ``demo --counterparties 80``, made once for the run and copied per worker
    env = copy_of(tmp_path_factory, "demo", data_dir, e2e_db)
    env["KARTOTEKA_WEBFORM_MIN_SECONDS"] = str(WEBFORM_MIN_SECONDS)
    port = _free_port()
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    env.update(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        KARTOTEKA_BASE_URL=f"http://127.0.0.1:{port}",
    )
    username, password = (data_dir / "admin-credentials.txt").read_text().split()[:2]
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/login/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield Server(
            url=url,
            username=username,
            password=password,
            env=env,
            log=data_dir / "server.log",
            inbox=inbox,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        smtp.stop()
        if pg_url.startswith("postgres"):
            _postgres_database(pg_url, e2e_db, drop_only=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def admin_session(browser, server) -> dict:
    """The administrator's logged-in browser state (cookies), for tests that are not about
    logging in: ``browser.new_context(storage_state=admin_session)`` starts logged in."""
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(server.url + "/login/")
    page.fill("#id_username", server.username)
    page.fill("#id_password", server.password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    state = context.storage_state()
    context.close()
    return state


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "server" in item.fixturenames:
        server = item.funcargs.get("server")
        if server is not None and server.log is not None and server.log.exists():
            tail = server.log.read_text(errors="replace").splitlines()[-60:]
            report.sections.append(("server log (last lines)", "\n".join(tail)))
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    pg = context.new_page()
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
