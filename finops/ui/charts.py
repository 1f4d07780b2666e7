"""Altair charts used by the cost pages."""

import altair as alt
import pandas as pd

from finops.costs import OTHER

PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d"]


def _money_axis(metric: str) -> alt.Y:
    return alt.Y(f"{metric}:Q", title=metric.replace("_", " ").capitalize() + " ($)", axis=alt.Axis(format="$,.0f"))


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


def monthly_stacked(by_service: pd.DataFrame, totals: pd.DataFrame, metric: str) -> alt.Chart:
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
            y=_money_axis(metric),
            color=_service_colors(data, metric),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month"),
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format="$,.2f"),
                alt.Tooltip("share:Q", title="Share of month", format=".1%"),
                alt.Tooltip("month_total:Q", title="Month total", format="$,.2f"),
            ],
        )
    )


def daily_stacked(daily: pd.DataFrame, metric: str) -> alt.Chart:
    """Daily spend, stacked by service."""
    data = daily.assign(day=pd.to_datetime(daily["day"]))
    data["rank"] = data["service"].map(_service_rank(data, metric))
    return (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("day:T", title="Day"),
            y=_money_axis(metric),
            color=_service_colors(data, metric),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("day:T", title="Day"),
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format="$,.2f"),
            ],
        )
    )


def service_bars(table: pd.DataFrame, metric: str, top_n: int = 15) -> alt.Chart:
    """Horizontal bars of the period's cost per service (top N)."""
    data = table.head(top_n)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title="Cost ($)", axis=alt.Axis(format="$,.0f")),
            y=alt.Y("service:N", sort="-x", title=None),
            tooltip=[
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip(f"{metric}:Q", title="Cost", format="$,.2f"),
                alt.Tooltip("share_pct:Q", title="Share (%)", format=".1f"),
                alt.Tooltip("change_pct:Q", title="Change (%)", format="+.1f"),
            ],
        )
    )
