"""Report charts as inline SVG, drawn on the server: no JavaScript, no build step, and the chart
prints and scales with the page like the table under it.

Every text that comes from data (stage and manager names) is escaped; the markup is assembled
with :func:`~django.utils.html.format_html`, so the result is safe to put in a template as is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kartoteka.reports.funnel import Funnel, FunnelRow

WIDTH = 960
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _number(value: float) -> str:
    """``1234567`` → ``1 234 567`` (thin spaces group thousands, as the tables do)."""
    return f"{value:,.0f}".replace(",", "\u202f")


def _percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "\u00a0%"


def funnel_chart(funnel: Funnel, link: Callable[[FunnelRow], str]) -> SafeString:
    """The funnel: a centred bar per stage, as wide as its count, with the count inside and the
    conversions beside it; each bar links to ``link(row)`` (the drill-down)."""
    label_width, info_width, row_height, gap = 230, 210, 40, 8
    bar_area = WIDTH - label_width - info_width
    top = 6
    largest = max((r.count for r in funnel.rows), default=0) or 1
    parts = []
    for i, row in enumerate(funnel.rows):
        y = top + i * (row_height + gap)
        width = round(max(bar_area * row.count / largest, 2.0), 1)
        x = round(label_width + (bar_area - width) / 2, 1)
        middle = y + row_height / 2
        inside = width > 60
        info = (
            _("из пред. %(prev)s · из первого %(first)s")
            % {"prev": _percent(row.conversion_prev), "first": _percent(row.conversion_first)}
            if i
            else _("вход в воронку")
        )
        parts.append(
            format_html(
                '<a href="{}" data-stage="{}" style="text-decoration:none"><title>{}: {}</title>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}"/>'
                '<text x="{}" y="{}" text-anchor="{}" dominant-baseline="central" '
                'fill="{}" font-weight="600">{}</text></a>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central">{}</text>'
                '<text x="{}" y="{}" dominant-baseline="central" fill="#6c757d" '
                'font-size="12">{}</text>',
                link(row),
                row.stage.key,
                row.stage.label,
                _number(row.count),
                x,
                y,
                width,
                row_height,
                row.stage.color,
                # The count inside the bar, or beside it when the bar is too narrow.
                label_width + bar_area / 2 if inside else round(x + width + 6, 1),
                middle,
                "middle" if inside else "start",
                "#fff" if inside else "#212529",
                _number(row.count),
                label_width - 12,
                middle,
                row.stage.label,
                label_width + bar_area + 12,
                middle,
                info,
            )
        )
    height = top * 2 + len(funnel.rows) * (row_height + gap)
    return _svg(height, _("Воронка продаж"), mark_safe("".join(parts)), testid="funnel-chart")


@dataclass(frozen=True)
class Series:
    """One series of a bar chart: its name in the legend and its colour."""

    label: str
    color: str


def bar_chart(
    rows: Sequence[tuple[str, Sequence[float], str]],
    series: Sequence[Series],
    *,
    title: str,
    testid: str,
) -> SafeString:
    """Horizontal bars, one per row ``(label, values per series, text after the bar)``; several
    series stack within the bar and get a legend."""
    label_width, info_width, row_height, gap = 230, 150, 26, 8
    bar_area = WIDTH - label_width - info_width
    legend = 28 if len(series) > 1 else 0
    largest = max((sum(values) for _label, values, _text in rows), default=0) or 1
    parts = []
    if legend:
        x = label_width
        for s in series:
            parts.append(
                format_html(
                    '<rect x="{}" y="6" width="12" height="12" rx="2" fill="{}"/>'
                    '<text x="{}" y="12" dominant-baseline="central" font-size="12">{}</text>',
                    x,
                    s.color,
                    x + 17,
                    s.label,
                )
            )
            x += 30 + 8 * len(s.label)
    for i, (label, values, text) in enumerate(rows):
        y = legend + 6 + i * (row_height + gap)
        middle = y + row_height / 2
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central">{}</text>',
                label_width - 12,
                middle,
                label,
            )
        )
        x = float(label_width)
        for value, s in zip(values, series, strict=True):
            width = round(bar_area * value / largest, 1)
            if width <= 0:
                continue
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {}</title></rect>",
                    x,
                    y,
                    width,
                    row_height,
                    s.color,
                    s.label,
                    _number(value),
                )
            )
            x = round(x + width, 1)
        parts.append(
            format_html(
                '<text x="{}" y="{}" dominant-baseline="central" font-weight="600">{}</text>',
                round(x + 8, 1),
                middle,
                text,
            )
        )
    height = legend + 12 + len(rows) * (row_height + gap)
    return _svg(height, title, mark_safe("".join(parts)), testid=testid)


def _svg(height: float, title: str, body: SafeString, *, testid: str) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" data-testid="{}" class="report-chart" font-family="{}" font-size="14" '
        'style="width:100%;height:auto;max-height:{}px">{}</svg>',
        WIDTH,
        round(height),
        title,
        testid,
        FONT,
        round(height * 1.2),
        body,
    )
