"""What the sidecar's long model runs are doing now: a forecast or an anomaly scan in progress (pages, CLI)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session


@dataclass(frozen=True)
class RunProgress:
    """One run in progress: what it is, how far along, since when."""

    kind: str  # forecast | anomalies
    run_id: int
    done: int
    total: int
    step: str  # what it does now, in words
    started_at: datetime

    @property
    def share(self) -> float:
        """Done as a share of the whole, 0-1 (0 while the total is not known yet)."""
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def text(self) -> str:
        if self.kind == "forecast":
            what = f"{self.done} of {self.total} series" if self.total else "reading the cost history"
            return f"Forecast run {self.run_id} in progress: {what} (started {self.started_at:%H:%M} UTC)"
        return (
            f"Anomaly scan {self.run_id} in progress: {self.step}, step {min(self.done + 1, self.total)} of "
            f"{self.total} (started {self.started_at:%H:%M} UTC)"
        )


def running(*, session: Session, kind: str) -> RunProgress | None:
    """The `kind` ("forecast" or "anomalies") run in progress, or None."""
    from finops.data import anomalies, forecasts

    if kind == "forecast":
        run = forecasts.running_run(session=session)
        if run is None or run.id is None:
            return None
        return RunProgress("forecast", run.id, run.done, run.total, "forecasting", run.created_at)
    if kind != "anomalies":
        raise ValueError(f"kind must be forecast or anomalies, not {kind!r}")
    scan = anomalies.running_run(session=session)
    if scan is None or scan.id is None:
        return None
    return RunProgress("anomalies", scan.id, scan.done, scan.total, scan.step, scan.started_at)
