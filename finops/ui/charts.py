"""Altair charts used by the cost pages."""

import altair as alt
import pandas as pd

from finops.costs import OTHER

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d"]


def _fmt(currency: str, decimals: int) -> str:
    """A d3 number format for amounts in `currency` ("USD, converted" too): the dollar sign for USD only (the title
    names the others)."""
    return f"{'$' if currency.startswith('USD') else ''},.{decimals}f"


def _money_axis(metric: str, currency: str) -> alt.Y:
    title = f"{metric.replace('_', ' ').capitalize()} ({currency})"
    return alt.Y(f"{metric}:Q", title=title, axis=alt.Axis(format=_fmt(currency, 0)))


def _service_rank(data: pd.DataFrame, metric: str) -> dict[str, int]:
    """Services by total cost, highest first, with "Other" always last."""
    totals = data.groupby("service")[metric].sum().sort_values(ascending=False)
    names = [s for s in totals.index if s != OTHER] + ([OTHER] if OTHER in totals.index else [])
    return {name: i for i, name in enumerate(names)}


def _service_colors(data: pd.DataFrame, metric: str) -> alt.Color:
    """Categorical colours in cost order; "Other" is grey."""
    names = list(_service_rank(data, metric))
    palette = [c for _, c in zip(names, PALETTE * 3, strict=False)]
    if names and names[-1] == OTHER:
        palette[-1] = "#b0b0b0"
    return alt.Color("service:N", title="Service", scale=alt.Scale(domain=names, range=palette), sort=names)


def monthly_stacked(by_service: pd.DataFrame, totals: pd.DataFrame, metric: str, currency: str = "USD") -> alt.Chart:
    """Stacked monthly bars per service; the tooltip gives the service, its cost, share and the month's total."""
    data = by_service.merge(totals[["month", metric]].rename(columns={metric: "month_total"}), on="month")
    data["share"] = data[metric] / data["month_total"]
    data["month"] = pd.to_datetime(data["month"])
    data["rank"] = data["service"].map(_service_rank(data, metric))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title="Month"),
            y=_money_axis(metric, currency),
            color=_service_colors(data, metric),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month"),
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format=_fmt(currency, 2)),
                alt.Tooltip("share:Q", title="Share of month", format=".1%"),
                alt.Tooltip("month_total:Q", title="Month total", format=_fmt(currency, 2)),
            ],
        )
    )


def daily_stacked(daily: pd.DataFrame, metric: str, currency: str = "USD") -> alt.Chart:
    """Daily spend, stacked by service."""
    data = daily.assign(day=pd.to_datetime(daily["day"]))
    data["rank"] = data["service"].map(_service_rank(data, metric))
    return (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("day:T", title="Day"),
            y=_money_axis(metric, currency),
            color=_service_colors(data, metric),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("day:T", title="Day"),
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format=_fmt(currency, 2)),
            ],
        )
    )


def service_bars(table: pd.DataFrame, metric: str, top_n: int = 15, currency: str = "USD") -> alt.Chart:
    """Horizontal bars of the period's cost per service (top N)."""
    data = table.head(top_n)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title=f"Cost ({currency})", axis=alt.Axis(format=_fmt(currency, 0))),
            y=alt.Y("service:N", sort="-x", title=None),
            tooltip=[
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format=_fmt(currency, 2)),
                alt.Tooltip("share_pct:Q", title="Share (%)", format=".1f"),
                alt.Tooltip("change_pct:Q", title="Change (%)", format="+.1f"),
            ],
        )
    )


def forecast(
    history: pd.DataFrame, points: pd.DataFrame, aws: pd.DataFrame, level: int, currency: str = "USD"
) -> alt.LayerChart:
    """Actual daily cost, our forecast with its band, and AWS's forecast (dashed) when there is one."""
    band_title = f"{level} % interval"
    lines = [history.assign(kind="Actual")[["ds", "y", "kind"]].rename(columns={"y": "value"})]
    lines.append(points.assign(kind="Forecast")[["ds", "yhat", "kind"]].rename(columns={"yhat": "value"}))
    if not aws.empty:
        lines.append(aws.assign(kind="AWS forecast")[["ds", "yhat", "kind"]].rename(columns={"yhat": "value"}))
    data = pd.concat([f for f in lines if not f.empty], ignore_index=True)
    kinds = ["Actual", "Forecast", "AWS forecast"]
    colors = alt.Color("kind:N", title=None, scale=alt.Scale(domain=kinds, range=["#4c78a8", "#f58518", "#54a24b"]))
    line = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("ds:T", title="Day"),
            y=alt.Y("value:Q", title=f"Daily cost ({currency})", axis=alt.Axis(format=_fmt(currency, 0))),
            color=colors,
            strokeDash=alt.condition("datum.kind == 'AWS forecast'", alt.value([6, 4]), alt.value([1, 0])),
            tooltip=[
                alt.Tooltip("ds:T", title="Day"),
                alt.Tooltip("kind:N", title="Series"),
                alt.Tooltip("value:Q", title="Cost", format=_fmt(currency, 2)),
            ],
        )
    )
    band = (
        alt.Chart(points.assign(band=band_title))
        .mark_area(opacity=0.25, color="#f58518")
        .encode(
            x="ds:T",
            y="yhat_lower:Q",
            y2="yhat_upper:Q",
            tooltip=[
                alt.Tooltip("ds:T", title="Day"),
                alt.Tooltip("yhat_lower:Q", title="Lower", format=_fmt(currency, 2)),
                alt.Tooltip("yhat_upper:Q", title="Upper", format=_fmt(currency, 2)),
                alt.Tooltip("band:N", title="Band"),
            ],
        )
    )
    return alt.layer(band, line)


def anomaly_window(series: pd.DataFrame, start, end, currency: str = "USD") -> alt.LayerChart:
    """A daily series with the anomaly's days shaded."""
    window = pd.DataFrame({"start": [pd.Timestamp(start)], "end": [pd.Timestamp(end) + pd.Timedelta(days=1)]})
    shade = alt.Chart(window).mark_rect(opacity=0.2, color="#e45756").encode(x="start:T", x2="end:T")
    line = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(
            x=alt.X("ds:T", title="Day"),
            y=alt.Y("y:Q", title=f"Daily cost ({currency})", axis=alt.Axis(format=_fmt(currency, 0))),
            tooltip=[alt.Tooltip("ds:T", title="Day"), alt.Tooltip("y:Q", title="Cost", format=_fmt(currency, 2))],
        )
    )
    return alt.layer(shade, line)


STATE_COLORS = {"running": "#54a24b", "stopped": "#b0b0b0", "any": "#eeca3b"}


def week_grid(grid: pd.DataFrame, zone: str) -> alt.Chart:
    """Weekday x hour of a schedule's week (finops.data.schedule_views.week_grid), coloured by desired state."""
    order = list(dict.fromkeys(grid["weekday"]))
    states = list(STATE_COLORS)
    return (
        alt.Chart(grid, title=f"A week of this schedule ({zone})")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("hour:O", title="Hour (local)"),
            y=alt.Y("weekday:N", sort=order, title=None),
            color=alt.Color(
                "state:N", title="Desired", scale=alt.Scale(domain=states, range=list(STATE_COLORS.values()))
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Day"),
                alt.Tooltip("hour:O", title="Hour"),
                alt.Tooltip("state:N", title="Desired"),
            ],  # fmt: skip
        )
    )


BUDGET_LINES = {"actual": "#1f77b4", "forecast": "#ff7f0e", "budget": "#d62728"}


def budget_progress(status: pd.DataFrame, marks: pd.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Per budget its actual and forecast spend as % of the amount (bars), 100 % (the rule) and each threshold
    (ticks). `status`: name, pct_actual, pct_forecast, status; `marks`: name, pct, label."""
    rows = []
    for r in status.itertuples(index=False):
        rows += [
            [r.name, "forecast", r.pct_forecast or 0.0, r.status],
            [r.name, "actual", r.pct_actual or 0.0, r.status],
        ]
    bars = pd.DataFrame(rows, columns=["name", "line", "pct", "status"])
    order = list(status["name"])
    y = alt.Y("name:N", sort=order, title=None)
    colors = alt.Scale(domain=["actual", "forecast"], range=[BUDGET_LINES["actual"], BUDGET_LINES["forecast"]])
    base = alt.Chart(bars).encode(
        y=y,
        x=alt.X("pct:Q", title="% of the amount", scale=alt.Scale(domainMin=0)),
        color=alt.Color("line:N", title=None, scale=colors),
        opacity=alt.condition(alt.datum.line == "forecast", alt.value(0.35), alt.value(1.0)),
        tooltip=[alt.Tooltip("name:N", title="Budget"), alt.Tooltip("line:N", title="Spend"),
                 alt.Tooltip("pct:Q", title="% of amount", format=".1f"), alt.Tooltip("status:N", title="Status")],
    )  # fmt: skip
    layers = [
        base.mark_bar(height=14),
        alt.Chart(pd.DataFrame({"pct": [100.0]})).mark_rule(color="black").encode(x="pct:Q"),
    ]
    if not marks.empty:
        layers.append(
            alt.Chart(marks).mark_tick(color=BUDGET_LINES["budget"], thickness=2, size=22)
            .encode(y=y, x="pct:Q", tooltip=[alt.Tooltip("label:N", title="Threshold")])
        )  # fmt: skip
    return alt.layer(*layers).properties(height=max(60, 34 * len(order)))


def budget_burn(lines: pd.DataFrame, title: str) -> alt.Chart:
    """Cumulative spend against the budget line, with the forecast to period end (finops.budgeting.evaluation
    .cumulative: day, line, value)."""
    scale = alt.Scale(domain=list(BUDGET_LINES), range=list(BUDGET_LINES.values()))
    return (
        alt.Chart(lines, title=title)
        .mark_line()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("value:Q", title="USD", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("line:N", title=None, scale=scale),
            strokeDash=alt.condition(alt.datum.line == "forecast", alt.value([6, 4]), alt.value([1, 0])),
            tooltip=[
                alt.Tooltip("day:T", title="Day"),
                alt.Tooltip("line:N", title="Line"),
                alt.Tooltip("value:Q", title="USD", format="$,.2f"),
            ],
        )  # fmt: skip
    )
