"""AWS Cost Anomaly Detection's anomalies (GetAnomalies over the last 90 days, every page through botocore's
paginator), as rows for `anomaly`.

Figures arrive as numbers and are read exactly (`float_of`); an anomaly without an id or a start day is
left out. AWS's own Feedback comes along as `aws_feedback` in our vocabulary; the store decides whether it
counts (it never overwrites feedback given here).
"""

from datetime import date, timedelta

from finops.data.sources.aws_ce import day_of, float_of

OPERATION = "GetAnomalies"
DAYS = 90
AWS_FEEDBACK = {"YES": "confirmed", "NO": "false_positive", "PLANNED_ACTIVITY": "planned"}


def parse_anomaly(item: dict) -> dict | None:
    """Anomaly fields (without feedback) of one GetAnomalies item; None without an id or a start day."""
    start = day_of(item.get("AnomalyStartDate"))
    if not item.get("AnomalyId") or start is None:
        return None
    impact = item.get("Impact") or {}
    total = float_of(impact.get("TotalImpact"))
    causes = [c for c in item.get("RootCauses") or [] if isinstance(c, dict)]
    first = causes[0] if causes else {}
    return {
        "external_id": str(item["AnomalyId"]),
        "service": str(first.get("Service") or ""),
        "account_id": str(first.get("LinkedAccount") or ""),
        "start_day": start,
        "end_day": day_of(item.get("AnomalyEndDate")),
        "impact": total if total is not None else (float_of(impact.get("MaxImpact")) or 0.0),
        "actual": float_of(impact.get("TotalActualSpend")),
        "expected": float_of(impact.get("TotalExpectedSpend")),
        "score": float_of((item.get("AnomalyScore") or {}).get("CurrentScore")),
        "contributors": causes,
    }


def fetch_anomalies(ce, today: date) -> list[dict]:
    """Every anomaly of the last DAYS days (every page), with AWS's feedback as `aws_feedback`."""
    params = {
        "DateInterval": {
            "StartDate": (today - timedelta(days=DAYS)).isoformat(),
            "EndDate": today.isoformat(),
        }
    }
    rows = []
    for response in ce.get_paginator("get_anomalies").paginate(**params):
        for item in response.get("Anomalies") or []:
            parsed = parse_anomaly(item)
            if parsed is not None:
                parsed["aws_feedback"] = AWS_FEEDBACK.get(str(item.get("Feedback") or ""))
                rows.append(parsed)
    return rows
