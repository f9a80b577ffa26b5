"""One recipient's message: the e-mail (HTML with its CSS inlined, an automatic plain-text
part, the unsubscribe link and RFC 8058 headers) or the SMS text."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

import css_inline
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.html import linebreaks
from django.utils.translation import gettext as _

from kartoteka.mailings.content import render
from kartoteka.mailings.models import Campaign

TOKEN_SALT = "kartoteka.mailings.unsubscribe"
STYLE = (
    "body { font-family: Arial, sans-serif; font-size: 15px; color: #222; line-height: 1.45 }"
    " a { color: #0d6efd } .unsubscribe { color: #888; font-size: 12px; margin-top: 24px }"
)


def unsubscribe_token(recipient_id: int) -> str:
    return signing.dumps(recipient_id, salt=TOKEN_SALT, compress=True)


def recipient_of_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(recipient_id: int) -> str:
    path = _unsubscribe_path().replace("TOKEN", unsubscribe_token(recipient_id))
    return (settings.KARTOTEKA_BASE_URL or "http://localhost:8000") + path


@cache
def _unsubscribe_path() -> str:
    return reverse("mailing_unsubscribe", args=["TOKEN"])


def context(
    campaign: Campaign, record: Any, recipient_id: int, common: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The names a campaign's templates see; ``common`` (``company``, ``user``, ``today``) may
    be given once for a whole run."""
    if common is None:
        from kartoteka.mailings.audience import author
        from kartoteka.mailings.content import names

        common = names(author(campaign))
    return {
        **common,
        "record": record,
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "unsubscribe_url": unsubscribe_url(recipient_id),
    }


def html_body(campaign: Campaign, ctx: dict[str, Any]) -> str:
    """The letter's HTML, CSS inlined, with the visible unsubscribe link at the end."""
    body = render(campaign.body, ctx, html=True)
    if "<" not in campaign.body:
        body = linebreaks(body)
    link = html.escape(ctx["unsubscribe_url"])
    page = (
        f'<html><head><meta charset="utf-8"><style>{STYLE}</style></head><body>{body}'
        f'<p class="unsubscribe">{html.escape(_("Вы получили это письмо как клиент."))} '
        f'<a href="{link}">{html.escape(_("Отписаться от рассылки"))}</a></p></body></html>'
    )
    return css_inline.inline(page)


_LINK = re.compile(r'<a\s[^>]*href="([^"]*)"[^>]*>(.*?)</a>', re.I | re.S)
_BREAK = re.compile(r"<br\s*/?>|</li>|</tr>", re.I)
_PARAGRAPH = re.compile(r"</p>|</div>|</h\d>", re.I)
_TAG = re.compile(r"<[^>]+>")
_HEAD = re.compile(r"<head.*?</head>", re.I | re.S)


def plain_text(page: str) -> str:
    """The plain-text part of an HTML letter: paragraphs kept, links as «text (address)»."""
    text = _HEAD.sub("", page)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({html.unescape(m.group(1))})", text)
    text = _PARAGRAPH.sub("\n\n", _BREAK.sub("\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def email_message(
    campaign: Campaign, ctx: dict[str, Any], to: str, connection: Any = None
) -> EmailMultiAlternatives:
    subject = " ".join(render(campaign.subject, ctx).split())
    page = html_body(campaign, ctx)
    url = ctx["unsubscribe_url"]
    message = EmailMultiAlternatives(
        subject=subject,
        body=plain_text(page),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(page, "text/html")
    if campaign.attachment:
        with campaign.attachment.open("rb") as handle:
            name = campaign.attachment.name.rsplit("/", 1)[-1]
            message.attach(name, handle.read())
    return message


def sms_text(campaign: Campaign, ctx: dict[str, Any], opt_out: str) -> str:
    text = " ".join(render(campaign.body, ctx).split())
    return f"{text} {opt_out}".strip() if opt_out else text
