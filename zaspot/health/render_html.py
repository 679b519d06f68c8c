"""The monthly report as one self-contained HTML file: `render(report) -> str`.

No network and no script: the style is inline, each chart an inline SVG that matplotlib
draws (the Agg canvas, imported only when a report is rendered, so a server start does
not pay for it). A Content-Security-Policy in the page forbids loading anything, so a
report mailed or opened from disk shows the same. Every text from the data (station ids
are user input) is escaped, in the tables and in the charts' labels.

The report is zaspot.health.report.monthly's dict (see HEALTH_API: availability,
rolling_12m, days, outages, faults, temperature, exclusions).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # matplotlib itself is imported on render

CHART_STATIONS = 40   # the worst stations in the uptime chart (the table lists every one)
CHART_CODES = 12      # fault codes in the chart
DRIFT_CHARTS = 12     # flagged connectors drawn (the table lists every series)
TABLE_OUTAGES = 300   # the longest outages listed
LABEL_CHARS = 28      # a station id in a chart's label is cut to this

RC: dict[RcKeyType, Any] = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "axes.titlesize": 10, "axes.titleweight": "bold",
                            "font.family": "DejaVu Sans"}
BAD, GOOD, LINE = "#c0392b", "#2e7d5b", "#34495e"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:70em;
 padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}
.meta{color:#666}.note{color:#666;font-size:.9em}
.tiles{display:flex;flex-wrap:wrap;gap:.6em;padding:0;margin:1em 0}
.tiles div{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;min-width:9em}
.tiles dt{font-size:.8em;color:#666}.tiles dd{margin:0;font-size:1.3em;font-weight:600}
.bad{color:#c0392b}.good{color:#2e7d5b}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
td.n{white-space:nowrap}
th,td{border-bottom:1px solid #e3e3e3;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#666;font-size:.9em}
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


def render(report: dict[str, Any]) -> str:
    import matplotlib  # lazily: only a rendered report pays for the import

    with matplotlib.rc_context(RC):
        charts = _Charts()
        zone = _zone(report.get("timezone"))
        body = [_heading(report, zone), _summary(report), _stations(report, charts), _daily(report, charts),
                _faults(report, charts), _reliability(report), _outages(report, zone),
                _drift(report, charts), _exclusions(report, zone)]
    title = f"Fleet health {report.get('month', '')}"
    return PAGE.format(title=escape(title), style=STYLE, body="\n".join(part for part in body if part))


class _Charts:
    """Draws each chart on its own Figure (no pyplot: no global figure state) as an SVG."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._canvas, self._figure = FigureCanvasAgg, Figure

    def figure(self, width: float, height: float) -> Any:
        fig = self._figure(figsize=(width, height), layout="constrained")
        self._canvas(fig)
        return fig

    def svg(self, fig: Any, name: str, caption: str) -> str:
        """The figure as <figure><svg>…</svg></figure>, its ids unique in the page."""
        import matplotlib

        out = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "zaspot"}):  # the same report draws the same bytes
            fig.canvas.print_figure(out, format="svg", metadata=dict.fromkeys(("Date", "Creator", "Format", "Type")))
        text = out.getvalue().decode("utf-8")
        svg = text[text.index("<svg"):]
        # matplotlib's ids (figure_1, xtick_1, clip paths) repeat from chart to chart: prefix them
        prefix = f"{name}-"
        svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m[1]}"', svg)
        svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m[1]}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m[1]})", svg)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(caption)}" ', 1)
        return f'<figure class="chart" id="{name}">\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n</figure>'


# -- text helpers ---------------------------------------------------------------------


def _zone(name: Any) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(ts: Any, zone: Any) -> str:
    if ts is None:
        return "open"
    return datetime.fromtimestamp(float(ts), zone).strftime("%Y-%m-%d %H:%M")


def _num(v: Any, digits: int = 1, suffix: str = "") -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}{suffix}" if isinstance(v, float) else f"{v:,}{suffix}"


def _pct(v: Any) -> str:
    return "–" if v is None else f"{v:.3f} %"


def _label(text: Any, chars: int = LABEL_CHARS) -> str:
    """A data text for a chart: cut to length, and `$` kept literal (matplotlib reads $…$ as math)."""
    s = str(text)
    s = s if len(s) <= chars else s[: chars - 1] + "…"
    return s.replace("$", r"\$")


def _port(row: dict[str, Any]) -> str:
    return f"{row.get('station_id')} #{row.get('evse_id')}/{row.get('connector_id')}"


def _table(header: list[str], rows: list[list[Any]], numeric: set[int], name: str) -> str:
    """An HTML table; every cell is escaped; columns in `numeric` are right-aligned."""
    def cell(tag: str, i: int, v: Any) -> str:
        cls = ' class="n"' if i in numeric else ""
        return f"<{tag}{cls}>{escape(str(v))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "\n".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<table id="{name}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _target_class(uptime: Any, target: float) -> str:
    return "" if uptime is None else ("bad" if uptime < target else "good")


# -- sections ---------------------------------------------------------------------------


def _heading(report: dict[str, Any], zone: Any) -> str:
    generated = _when(report.get("generated_at"), zone) if report.get("generated_at") else "–"
    return (f"<h1>Fleet health {escape(str(report.get('month', '')))}</h1>\n"
            f'<p class="meta">{escape(_when(report.get("start"), zone))} to {escape(_when(report.get("end"), zone))} '
            f"({escape(str(report.get('timezone', 'UTC')))}); uptime target {_num(report.get('target'))} % per port; "
            f"generated {escape(generated)} by zaspot.</p>")


def _summary(report: dict[str, Any]) -> str:
    site = report.get("availability", {}).get("site", {})
    year = report.get("rolling_12m", {}).get("site", {})
    target = float(report.get("target") or 0)
    tiles = [("Uptime this month", _pct(site.get("uptime")), _target_class(site.get("uptime"), target)),
             ("Uptime, 12 months", _pct(year.get("uptime")), _target_class(year.get("uptime"), target)),
             ("Ports", _num(site.get("ports")), ""),
             ("Ports below target", _num(site.get("below_target")), "bad" if site.get("below_target") else ""),
             ("Outage minutes", _num(site.get("outage_minutes")), ""),
             ("Excluded minutes", _num(site.get("excluded_minutes")), ""),
             ("Failures", _num(site.get("failures")), ""),
             ("MTBF", _num(site.get("mtbf_hours"), 1, " h"), ""),
             ("MTTR", _num(site.get("mttr_hours"), 2, " h"), "")]
    items = "\n".join(f'<div><dt>{escape(k)}</dt><dd class="{c}">{escape(v)}</dd></div>' for k, v, c in tiles)
    return f'<h2>Site</h2>\n<dl class="tiles" id="site">\n{items}\n</dl>'


def _stations(report: dict[str, Any], charts: _Charts) -> str:
    target = float(report.get("target") or 0)
    rows = [s for s in report.get("availability", {}).get("stations", []) if s.get("uptime") is not None]
    if not rows:
        return "<h2>Uptime per station</h2>\n<p>No station had a port in service this month.</p>"
    shown = rows[:CHART_STATIONS]
    fig = charts.figure(8.5, 1.0 + 0.24 * len(shown))
    ax = fig.add_subplot()
    values = [s["uptime"] for s in shown]
    ax.barh(range(len(shown)), values, color=[BAD if v < target else GOOD for v in values], height=0.7)
    ax.set_yticks(range(len(shown)), [_label(s["station_id"]) for s in shown])
    ax.invert_yaxis()
    ax.axvline(target, color=LINE, linestyle="--", linewidth=1.2, label=f"target {target:g} %")
    ax.set_xlim(max(0.0, min(min(values), target) - 1.0), 100.0)
    ax.set_xlabel("uptime this month, %")
    fig.legend(loc="outside upper right", fontsize=8)
    more = f" (the {len(shown)} worst of {len(rows)})" if len(rows) > len(shown) else ""
    return "<h2>Uptime per station</h2>\n" + charts.svg(
        fig, "chart-stations", f"Uptime per station this month, worst first{more}, against the {target:g} % target")


def _daily(report: dict[str, Any], charts: _Charts) -> str:
    days = report.get("days", [])
    values = [d["uptime"] for d in days if d.get("uptime") is not None]
    if not values:
        return ""
    target = float(report.get("target") or 0)
    fig = charts.figure(8.5, 2.6)
    ax = fig.add_subplot()
    shown = [(i, d["uptime"]) for i, d in enumerate(days) if d.get("uptime") is not None]  # a day with no port: a gap
    ax.bar([i for i, _ in shown], [v for _, v in shown], color=[BAD if v < target else GOOD for _, v in shown],
           width=0.8)
    ax.set_xticks(range(len(days)), [_label(str(d.get("day"))[-2:]) for d in days], fontsize=7)
    ax.axhline(target, color=LINE, linestyle="--", linewidth=1.2, label=f"target {target:g} %")
    ax.set_ylim(max(0.0, min(min(values), target) - 1.0), 100.0)
    ax.set_ylabel("site uptime, %")
    ax.set_xlabel("day of the month")
    fig.legend(loc="outside upper right", fontsize=8)
    return "<h2>Site uptime per day</h2>\n" + charts.svg(fig, "chart-days", "The site's uptime per day this month")


def _faults(report: dict[str, Any], charts: _Charts) -> str:
    faults = report.get("faults", {})
    codes = faults.get("codes", [])
    parts = ["<h2>Faults</h2>"]
    if not codes:
        return "<h2>Faults</h2>\n<p>No alarm was raised this month.</p>"
    top = codes[:CHART_CODES]
    fig = charts.figure(8.5, 1.0 + 0.26 * len(top))
    ax = fig.add_subplot()
    ax.barh(range(len(top)), [c["count"] for c in top], color=LINE, height=0.7)
    ax.set_yticks(range(len(top)), [_label(c["code"]) for c in top])
    ax.invert_yaxis()
    ax.set_xlabel("alarms raised this month")
    parts.append(charts.svg(fig, "chart-codes", "The most frequent fault codes this month"))
    parts.append(_table(["code", "alarms", "stations"], [[c["code"], c["count"], c["stations"]] for c in codes],
                        {1, 2}, "codes"))
    offenders = faults.get("repeat_offenders", [])
    if offenders:
        parts.append("<h3>Repeat offenders</h3>")
        parts.append(_table(["station", "failures", "codes"],
                            [[o["station_id"], o["failures"], ", ".join(map(str, o["codes"]))] for o in offenders],
                            {1}, "offenders"))
    clears = faults.get("clear_times", [])
    if clears:
        parts.append("<h3>Time to clear</h3>")
        parts.append(_table(["code", "alarms", "still open", "mean min", "median min", "max min"],
                            [[c["code"], c["count"], c["open"], _num(c["mean_minutes"]), _num(c["median_minutes"]),
                              _num(c["max_minutes"])] for c in clears], {1, 2, 3, 4, 5}, "clear-times"))
    models = faults.get("by_model", [])
    if models:
        parts.append("<h3>By model</h3>")
        parts.append(_table(["vendor", "model", "code", "alarms", "stations"],
                            [[m["vendor"] or "–", m["model"] or "–", m["code"], m["count"], m["stations"]]
                             for m in models], {3, 4}, "by-model"))
    modules = faults.get("modules", [])
    if modules:
        parts.append("<h3>Power-module trips</h3>")
        parts.append(_table(["station", "module", "trips"],
                            [[m["station_id"], m["instance"], m["trips"]] for m in modules], {2}, "modules"))
    return "\n".join(parts)


def _reliability(report: dict[str, Any]) -> str:
    target = float(report.get("target") or 0)
    stations = report.get("availability", {}).get("stations", [])
    year = {s["station_id"]: s.get("uptime") for s in report.get("rolling_12m", {}).get("stations", [])}
    rows = [[s["station_id"], _pct(s.get("uptime")), _pct(year.get(s["station_id"])), s.get("ports"),
             _num(s.get("outage_minutes")), _num(s.get("excluded_minutes")), s.get("failures"),
             _num(s.get("mtbf_hours")), _num(s.get("mttr_hours"), 2)] for s in stations]
    parts = ["<h2>Reliability per station</h2>",
             _table(["station", "uptime", "uptime 12 mo", "ports", "outage min", "excluded min", "failures",
                     "MTBF h", "MTTR h"], rows, {1, 2, 3, 4, 5, 6, 7, 8}, "reliability")]
    low = [p for p in report.get("availability", {}).get("ports", [])
           if p.get("uptime") is not None and p["uptime"] < target]
    if low:
        parts.append(f"<h3>Ports below the {target:g} % target</h3>")
        parts.append(_table(
            ["port", "uptime", "offline min", "faulted min", "unavailable min", "excluded min", "failures",
             "MTBF h", "MTTR h"],
            [[_port(p), _pct(p["uptime"]), _num(p.get("by_cause", {}).get("offline")),
              _num(p.get("by_cause", {}).get("faulted")), _num(p.get("by_cause", {}).get("unavailable")),
              _num(p.get("excluded_minutes")), p.get("failures"), _num(p.get("mtbf_hours")),
              _num(p.get("mttr_hours"), 2)] for p in low], {1, 2, 3, 4, 5, 6, 7, 8}, "low-ports"))
    return "\n".join(parts)


def _outages(report: dict[str, Any], zone: Any) -> str:
    outages = sorted(report.get("outages", []), key=lambda o: -(o.get("minutes") or 0))
    if not outages:
        return "<h2>Outages</h2>\n<p>No outage this month.</p>"
    shown = outages[:TABLE_OUTAGES]
    note = (f'<p class="note">The {len(shown)} longest of {len(outages)} outages.</p>'
            if len(outages) > len(shown) else f'<p class="note">{len(outages)} outages, longest first.</p>')
    rows = [[_port(o), o.get("cause"), o.get("code") or o.get("detail") or "", _when(o.get("started"), zone),
             _when(o.get("ended"), zone), _num(o.get("minutes"))] for o in shown]
    return "\n".join(["<h2>Outages</h2>", note,
                      _table(["port", "cause", "code or detail", "started", "ended", "minutes"], rows, {5},
                             "outages")])


def _drift(report: dict[str, Any], charts: _Charts) -> str:
    series = report.get("temperature", {}).get("series", [])
    if not series:
        return "<h2>Temperature per ampere</h2>\n<p>No connector has enough paired readings yet.</p>"
    parts = ["<h2>Temperature per ampere</h2>"]
    for n, s in enumerate([s for s in series if s.get("flagged")][:DRIFT_CHARTS]):
        parts.append(_drift_chart(s, n, charts))
    rows = [[_port(s), s.get("location"), s.get("instance") or "", _num(s.get("baseline"), 4),
             _num(s.get("current"), 4), _num(s.get("rise_pct"), 1, " %"), _verdict(s)]
            for s in series]
    parts.append(_table(["port", "location", "instance", "baseline °C/A", "now °C/A", "rise", "drift test"],
                        rows, {3, 4, 5}, "drift"))
    return "\n".join(parts)


def _verdict(series: dict[str, Any]) -> str:
    if series.get("flagged"):
        return "drifting"
    return "steady" if series.get("baseline") is not None else "no baseline yet"


def _drift_chart(series: dict[str, Any], n: int, charts: _Charts) -> str:
    days = series.get("days", [])
    fig = charts.figure(8.5, 2.4)
    ax = fig.add_subplot()
    x = list(range(len(days)))
    ax.plot(x, [d.get("slope") for d in days], "o", markersize=3, color="#7f8c8d", label="day's °C per A")
    ax.plot(x, [d.get("ewma") for d in days], "-", color=BAD, linewidth=1.6, label="smoothed (EWMA)")
    ax.plot(x, [d.get("limit") for d in days], "--", color=LINE, linewidth=1.2, label="limit")
    step = max(1, len(days) // 10)
    ax.set_xticks(x[::step], [_label(str(d.get("day"))[5:]) for d in days[::step]], fontsize=7)
    ax.set_ylabel("°C per A")
    fig.legend(loc="outside upper right", fontsize=7, ncols=3)
    where = f"{_port(series)} {series.get('location', '')} {series.get('instance') or ''}".strip()
    ax.set_title(_label(where, 80), loc="left")
    return charts.svg(fig, f"chart-drift-{n}",
                      f"{where}: °C per ampere per day against its limit (up {_num(series.get('rise_pct'), 1)} % "
                      f"on the baseline)")


def _exclusions(report: dict[str, Any], zone: Any) -> str:
    rows = [[e.get("station_id") or "all stations",
             "" if e.get("evse_id") is None else f"#{e['evse_id']}/{e.get('connector_id') or '*'}",
             _when(e.get("start"), zone), _when(e.get("end"), zone), e.get("reason"), e.get("source")]
            for e in report.get("exclusions", [])]
    if not rows:
        return ""
    return "<h2>Excluded time</h2>\n" + _table(["station", "port", "from", "to", "reason", "source"], rows,
                                               set(), "exclusions")
