"""An inline SVG timeline: one lane per risk class, one marker per operation, coloured by outcome.

Plain SVG written as text: no script, no font or stylesheet from anywhere, so the
chart draws the same in a browser with no network, in a PDF printer, or in an
e-mail client that strips scripts.
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape

from opsgov_hooks.records.ids import id_date
from opsgov_hooks.audit.model import OPEN, OperationRow
from opsgov_hooks.audit.period import UTC, iso

COLOURS = {"SUCCESS": "#2e7d32", "ROLLBACK": "#c62828", "PARTIAL": "#ef6c00", OPEN: "#757575"}
WIDTH, LEFT, RIGHT, TOP, LANE, BOTTOM = 960, 150, 64, 44, 44, 46


def placed_at(op: OperationRow) -> datetime.datetime | None:
    """Executed, else declared, else the day of its id."""
    if op.when is not None:
        return op.when
    day = id_date(op.operation_id)
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if day else None


def domain(operations: Sequence[OperationRow]) -> tuple[datetime.datetime, datetime.datetime] | None:
    moments = [m for o in operations for m in (placed_at(o), o.rollback_timestamp) if m is not None]
    if not moments:
        return None
    start, end = min(moments), max(moments)
    pad = max((end - start) * 0.04, datetime.timedelta(hours=12))
    return start - pad, end + pad


def render_svg(operations: Sequence[OperationRow], lanes: Sequence[str]) -> str:
    height = TOP + LANE * len(lanes) + BOTTOM
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Operations by risk class and outcome">',
             f'<rect class="chart-bg" x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    parts += _legend(operations) + _lanes(lanes)
    span = domain(operations)
    if span is None:
        parts.append(f'<text x="{LEFT + 10}" y="{TOP + 24}" fill="#555" font-size="14">'
                     "No operation in this period.</text>")
    else:
        parts += _axis(span, height) + _markers(operations, lanes, span)
    parts.append("</svg>")
    return "\n".join(parts)


def _x(when: datetime.datetime, span: tuple[datetime.datetime, datetime.datetime]) -> float:
    total = (span[1] - span[0]).total_seconds()
    return round(LEFT + (WIDTH - LEFT - RIGHT) * (when - span[0]).total_seconds() / total, 1)


def _legend(operations: Sequence[OperationRow]) -> list[str]:
    parts, x = [], LEFT
    for outcome, colour in COLOURS.items():  # 130 px each, then a note on the other marks
        count = sum(o.outcome == outcome for o in operations)
        parts.append(f'<circle class="legend" cx="{x + 7}" cy="18" r="7" fill="{colour}"/>'
                     f'<text x="{x + 20}" y="23" font-size="13" fill="#222">{outcome} ({count})</text>')
        x += 130
    parts.append(f'<text class="legend-note" x="{x - 20}" y="23" font-size="12" fill="#555">dark ring: emergency; '
                 "square: rollback</text>")
    return parts


def _lanes(lanes: Sequence[str]) -> list[str]:
    parts = []
    for i, lane in enumerate(lanes):
        y = TOP + LANE * i
        fill = "#f3f5f7" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect class="lane" x="{LEFT}" y="{y}" width="{WIDTH - LEFT - RIGHT}" height="{LANE}" '
                     f'fill="{fill}"/><text class="lane-label" x="{LEFT - 10}" y="{y + LANE / 2 + 5}" '
                     f'text-anchor="end" font-size="13" fill="#222">{escape(lane)}</text>')
    return parts


def _axis(span: tuple[datetime.datetime, datetime.datetime], height: int) -> list[str]:
    y = height - BOTTOM
    parts = [f'<line class="axis" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#444"/>']
    with_time = span[1] - span[0] < datetime.timedelta(days=4)
    for k in range(6):
        when = span[0] + (span[1] - span[0]) * k / 5
        x = _x(when, span)
        label = when.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
        parts.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 5}" stroke="#444"/>'
                     f'<text class="tick" x="{x}" y="{y + 20}" text-anchor="middle" font-size="11" '
                     f'fill="#444">{label}</text>')
    return parts


def _markers(operations: Sequence[OperationRow], lanes: Sequence[str],
             span: tuple[datetime.datetime, datetime.datetime]) -> list[str]:
    parts = []
    for op in operations:
        when = placed_at(op)
        if when is None or op.risk_class not in lanes:
            continue
        x, y = _x(when, span), TOP + LANE * lanes.index(op.risk_class) + LANE / 2
        colour = COLOURS.get(op.outcome, COLOURS[OPEN])
        title = escape(f"{op.operation_id} {op.name}: {op.outcome}, {op.risk_class}, {iso(when)}")
        if op.rollback_timestamp is not None:
            rx = _x(op.rollback_timestamp, span)
            parts.append(f'<line class="rollback" x1="{x}" y1="{y}" x2="{rx}" y2="{y}" stroke="{colour}" '
                         f'stroke-width="3"/><rect class="rollback-mark" x="{rx - 5}" y="{y - 5}" width="10" '
                         f'height="10" fill="{colour}"><title>{title} (rolled back)</title></rect>')
        ring = ' stroke="#111" stroke-width="3"' if op.emergency else ' stroke="#ffffff" stroke-width="1.5"'
        parts.append(f'<circle class="op outcome-{op.outcome.lower()}" data-operation="{escape(op.operation_id)}" '
                     f'cx="{x}" cy="{y}" r="8" fill="{colour}"{ring}><title>{title}</title></circle>')
    return parts
