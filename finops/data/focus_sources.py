"""The FOCUS locations the sidecar polls (owner of focus_source): import a location only when its billing files
changed since its last import (new or re-delivered files), and record every look, failures with their reason."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlmodel import Session, select

from finops.data import focus_imports
from finops.data.sources import focus_s3
from finops.data.sources.focus import FocusError
from finops.data.tables import FocusSource

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one poll did with one location: imported, unchanged or failed (with the one-line reason)."""

    location: str
    status: str
    message: str = ""
    run_id: int | None = None


def _row(session: Session, location: str) -> FocusSource:
    return session.get(FocusSource, location) or FocusSource(location=location)


def _record(session: Session, row: FocusSource, **values) -> None:
    """Store the look's result in its own commit (after the import's, which replace_window has committed)."""
    for name, value in values.items():
        setattr(row, name, value)
    row.checked_at = datetime.now(UTC)
    session.add(row)
    session.commit()


def poll_location(session: Session, location: str, client=None) -> Outcome:
    """Look at `location`; import it when its listing differs from the last import's. A failure (listing,
    download, a refused file, the store) leaves the data and the last import's digest as they were, so the next
    poll tries again; it is recorded on the row and returned, never raised."""
    row = _row(session, location)
    last_digest = row.digest
    try:
        listing = focus_imports.look(location, client)
        if listing.digest == last_digest:
            _record(session, row, status="unchanged", error="")
            return Outcome(location, "unchanged")
        done = focus_imports.import_location(session, location, client=client, listing=listing)
    except (FocusError, focus_s3.S3Unavailable) as exc:
        return _failed(session, location, str(exc))
    except Exception as exc:  # noqa: BLE001 - the store or anything else: recorded, retried at the next poll
        log.exception("FOCUS import of %s failed", location)
        return _failed(session, location, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    row = _row(session, location)
    _record(
        session, row, digest=listing.digest, files=len(listing.entries), run_id=done.run.id,
        imported_at=datetime.now(UTC), status="ok", error="",
    )  # fmt: skip
    return Outcome(location, "imported", f"{done.rows_read} rows from {len(done.files)} file(s)", done.run.id)


def _failed(session: Session, location: str, message: str) -> Outcome:
    session.rollback()
    _record(session, _row(session, location), status="failed", error=message[:2000])
    return Outcome(location, "failed", message)


def poll(session: Session, locations: list[str], client_factory) -> list[Outcome]:
    """Poll every location in turn (one failing never stops the others); `client_factory()` makes the S3 client,
    only when an s3:// location is configured."""
    client = client_factory() if any(focus_s3.is_s3(loc) for loc in locations) else None
    return [poll_location(session, location, client) for location in locations]


LOCATION_COLUMNS = ["location", "status", "files", "imported_at", "checked_at", "run_id", "error"]


def locations(session: Session, configured: list[str]) -> pd.DataFrame:
    """Every location polled so far and every configured one (a configured location not looked at yet has the
    status "waiting"). Returns LOCATION_COLUMNS, configured locations first in their order."""
    rows = {r.location: r for r in session.exec(select(FocusSource)).all()}
    names = list(dict.fromkeys([*configured, *sorted(rows)]))
    out = []
    for name in names:
        r = rows.get(name)
        if r is None:
            out.append([name, "waiting", 0, None, None, None, ""])
        else:
            out.append([name, r.status, r.files, r.imported_at, r.checked_at, r.run_id, r.error])
    return pd.DataFrame(out, columns=LOCATION_COLUMNS)
