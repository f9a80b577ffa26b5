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


# -- own reports ---------------------------------------------------------------------------------

PALETTE = (
    "#0d6efd",
    "#198754",
    "#fd7e14",
    "#6f42c1",
    "#dc3545",
    "#20c997",
    "#ffc107",
    "#6610f2",
    "#0dcaf0",
    "#d63384",
    "#adb5bd",
    "#495057",
)


@dataclass(frozen=True)
class Point:
    """One figure of a chart: its value, the text shown for it and the drill-down URL."""

    value: float
    text: str
    url: str = ""


@dataclass
class ChartData:
    """Categories (x axis), series (legend) and ``points[series][category]``."""

    categories: list[str]
    series: list[str]
    points: list[list[Point]]
    total: Point


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _link(url: str, body: SafeString, title: str) -> SafeString:
    if not url:
        return format_html("<g><title>{}</title>{}</g>", title, body)
    return format_html(
        '<a href="{}" class="chart-link" style="text-decoration:none"><title>{}</title>{}</a>',
        url,
        title,
        body,
    )


def _legend(series: Sequence[str], y: float = 12) -> tuple[SafeString, int]:
    if len(series) < 2:
        return mark_safe(""), 0
    parts, x, row = [], 60.0, 0
    for i, name in enumerate(series):
        width = 30 + 7.5 * len(name)
        if x + width > WIDTH - 10:
            x, row = 60.0, row + 1
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="central" font-size="12">{}</text>',
                round(x, 1),
                y - 6 + row * 20,
                color(i),
                round(x + 17, 1),
                y + row * 20,
                name,
            )
        )
        x += width
    return mark_safe("".join(parts)), 20 * (row + 1) + 6


def _category_label(label: str, x: float, base: float, room: float) -> SafeString:
    """A category's name under the axis: level and centred when there is room, else slanted."""
    if room >= 90:
        fits = max(int(room / 7.5), 4)
        short = label if len(label) <= fits else label[: fits - 1] + "…"
        return format_html(
            '<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>', x, base + 18, short
        )
    short = label if len(label) <= 16 else label[:15] + "…"
    return format_html(
        '<text x="{}" y="{}" text-anchor="end" font-size="12" '
        'transform="rotate(-35 {} {})">{}</text>',
        x,
        base + 16,
        x,
        base + 16,
        short,
    )


def column_chart(data: ChartData, *, stacked: bool, title: str, testid: str) -> SafeString:
    """Vertical columns per category: side by side per series, or stacked in one column."""
    legend, top = _legend(data.series)
    top += 14
    left, bottom, height = 70, 70, 300
    area = WIDTH - left - 10
    n = max(len(data.categories), 1)
    slot = area / n
    if stacked:
        largest = max(
            (sum(max(s[c].value, 0) for s in data.points) for c in range(len(data.categories))),
            default=0,
        )
    else:
        largest = max((p.value for s in data.points for p in s), default=0)
    largest = largest or 1
    base = top + height
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#adb5bd"/>', left, base, WIDTH - 10, base
        ),
        format_html(
            '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#6c757d">{}</text>',
            left - 6,
            top + 4,
            _number(largest),
        ),
    ]
    per = len(data.series) if not stacked else 1
    bar = max(min(slot * 0.8 / per, 60), 2)
    for c, label in enumerate(data.categories):
        x0 = left + c * slot + (slot - bar * per) / 2
        y = float(base)
        for s, points in enumerate(data.points):
            point = points[c]
            h = round(height * max(point.value, 0) / largest, 1)
            x = x0 if stacked else x0 + s * bar
            y_top = (y - h) if stacked else base - h
            if h > 0:
                parts.append(
                    _link(
                        point.url,
                        format_html(
                            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                            'data-series="{}" data-category="{}"/>',
                            round(x, 1),
                            round(y_top, 1),
                            round(bar, 1),
                            h,
                            color(s),
                            s,
                            c,
                        ),
                        f"{label} · {data.series[s]}: {point.text}"
                        if len(data.series) > 1
                        else f"{label}: {point.text}",
                    )
                )
            if stacked:
                y -= h
        parts.append(_category_label(label, round(left + c * slot + slot / 2, 1), base, slot))
    return _svg(top + height + bottom, title, mark_safe(legend + "".join(parts)), testid=testid)


def line_chart(data: ChartData, *, title: str, testid: str) -> SafeString:
    legend, top = _legend(data.series)
    top += 14
    left, bottom, height = 70, 70, 280
    area = WIDTH - left - 30
    n = len(data.categories)
    step = area / max(n - 1, 1)
    largest = max((p.value for s in data.points for p in s), default=0) or 1
    base = top + height
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#adb5bd"/>', left, base, WIDTH - 10, base
        )
    ]
    for s, points in enumerate(data.points):
        coords = [
            (round(left + 10 + c * step, 1), round(base - height * max(p.value, 0) / largest, 1))
            for c, p in enumerate(points)
        ]
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2.5" points="{}"/>',
                color(s),
                " ".join(f"{x},{y}" for x, y in coords),
            )
        )
        for (x, y), point, label in zip(coords, points, data.categories, strict=True):
            parts.append(
                _link(
                    point.url,
                    format_html('<circle cx="{}" cy="{}" r="5" fill="{}"/>', x, y, color(s)),
                    f"{label}: {point.text}",
                )
            )
    for c, label in enumerate(data.categories):
        parts.append(_category_label(label, round(left + 10 + c * step, 1), base, step))
    return _svg(top + height + bottom, title, mark_safe(legend + "".join(parts)), testid=testid)


def pie_chart(
    items: Sequence[tuple[str, Point]], *, donut: bool, title: str, testid: str
) -> SafeString:
    """A pie (or a donut) of categories with a legend of their figures beside it."""
    import math

    radius, cx, cy = 150, 190, 170
    total = sum(max(p.value, 0) for _label, p in items) or 1
    parts = []
    angle = -math.pi / 2
    for i, (label, point) in enumerate(items):
        share = max(point.value, 0) / total
        if share <= 0:
            continue
        end = angle + 2 * math.pi * share
        if share >= 0.9999:
            shape = format_html(
                '<circle cx="{}" cy="{}" r="{}" fill="{}"/>', cx, cy, radius, color(i)
            )
        else:
            x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x2, y2 = cx + radius * math.cos(end), cy + radius * math.sin(end)
            shape = format_html(
                '<path d="M{} {} L{} {} A{} {} 0 {} 1 {} {} Z" fill="{}" stroke="#fff"/>',
                cx,
                cy,
                round(x1, 2),
                round(y1, 2),
                radius,
                radius,
                1 if share > 0.5 else 0,
                round(x2, 2),
                round(y2, 2),
                color(i),
            )
        parts.append(_link(point.url, shape, f"{label}: {point.text} ({_percent(share * 100)})"))
        angle = end
    if donut:
        parts.append(format_html('<circle cx="{}" cy="{}" r="{}" fill="#fff"/>', cx, cy, 80))
    for i, (label, point) in enumerate(items[:16]):
        y = 30 + i * 22
        parts.append(
            format_html(
                '<rect x="400" y="{}" width="12" height="12" rx="2" fill="{}"/>'
                '<text x="420" y="{}" dominant-baseline="central" font-size="13">{} — {}</text>',
                y - 6,
                color(i),
                y,
                label,
                point.text,
            )
        )
    height = max(2 * cy, 40 + 22 * min(len(items), 16))
    return _svg(height, title, mark_safe("".join(parts)), testid=testid)


def steps_chart(items: Sequence[tuple[str, Point]], *, title: str, testid: str) -> SafeString:
    """A funnel of any categories: centred bars as wide as their figures, in the given order."""
    label_width, info_width, row_height, gap = 230, 150, 34, 6
    bar_area = WIDTH - label_width - info_width
    largest = max((p.value for _label, p in items), default=0) or 1
    parts = []
    for i, (label, point) in enumerate(items):
        y = 6 + i * (row_height + gap)
        width = round(max(bar_area * max(point.value, 0) / largest, 2.0), 1)
        x = round(label_width + (bar_area - width) / 2, 1)
        middle = y + row_height / 2
        parts.append(
            _link(
                point.url,
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}"/>',
                    x,
                    y,
                    width,
                    row_height,
                    color(i),
                ),
                f"{label}: {point.text}",
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central">{}</text>'
                '<text x="{}" y="{}" dominant-baseline="central" font-weight="600">{}</text>',
                label_width - 12,
                middle,
                label,
                label_width + bar_area + 12,
                middle,
                point.text,
            )
        )
    height = 12 + len(items) * (row_height + gap)
    return _svg(height, title, mark_safe("".join(parts)), testid=testid)


def number_chart(point: Point, caption: str, *, title: str, testid: str) -> SafeString:
    body = _link(
        point.url,
        format_html(
            '<text x="{}" y="80" text-anchor="middle" font-size="64" font-weight="700" '
            'fill="#0d6efd">{}</text>',
            WIDTH / 2,
            point.text,
        ),
        f"{caption}: {point.text}",
    )
    body += format_html(
        '<text x="{}" y="130" text-anchor="middle" fill="#6c757d">{}</text>', WIDTH / 2, caption
    )
    return _svg(150, title, mark_safe(body), testid=testid)
