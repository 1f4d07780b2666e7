"""Importing FOCUS billing files: read and check them all, then replace each provider's billing periods in
cost_daily (and its rollups) and cost_resource_daily in one transaction, or change nothing."""

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from finops.data import load, resource_costs
from finops.data.sources import focus
from finops.data.tables import RefreshRun

log = logging.getLogger(__name__)
SOURCE = "focus"


@dataclass
class FocusImport:
    """What an import loaded: its run (the data version), the files and rows read, the rows stored."""

    run: RefreshRun
    files: list[Path]
    rows_read: int
    daily_rows: int
    resource_rows: int
    windows: dict


def import_focus(session: Session, path: Path, *, provider: str | None = None) -> FocusImport:
    """Import the FOCUS file or folder at `path` (`provider` names the provider of every row instead of
    ProviderName). FocusError, before anything is written, when a file is refused; the store is then unchanged."""
    data = focus.read(path, provider=provider)
    start = min(lo for lo, _ in data.windows.values())
    end = max(hi for _, hi in data.windows.values())
    run = load.replace_window(
        session,
        SOURCE,
        start,
        end,
        data.daily,
        providers=data.windows,
        also=resource_costs.replacer(SOURCE, data.windows, data.resources),
    )
    log.info("imported %s FOCUS rows from %s file(s) as run %s", data.rows, len(data.files), run.id)
    return FocusImport(
        run=run,
        files=data.files,
        rows_read=data.rows,
        daily_rows=len(data.daily),
        resource_rows=len(data.resources),
        windows=data.windows,
    )
