"""Importing FOCUS billing files (a file, a folder or s3://bucket/prefix): read and check them all, then replace
each provider's billing periods in cost_daily (and its rollups) and cost_resource_daily in one transaction, or
change nothing."""

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from finops.data import deliveries, load, resource_costs
from finops.data.sources import focus, focus_s3
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


def import_focus(
    session: Session, path: Path, *, provider: str | None = None, location: str | None = None
) -> FocusImport:
    """Import the FOCUS file or folder at `path` (`provider` names the provider of every row instead of
    ProviderName) and record each provider's delivery from `location` (else `path`). FocusError, before
    anything is written, when a file is refused; the store is then unchanged."""
    with focus.read(path, provider=provider) as data:
        start = min(lo for lo, _ in data.windows.values())
        end = max(hi for _, hi in data.windows.values())
        run = load.replace_window_batches(
            session,
            SOURCE,
            start,
            end,
            data.daily,
            providers=data.windows,
            also=resource_costs.replacer(SOURCE, data.windows, data.resources),
        )
    log.info("imported %s FOCUS rows from %s file(s) as run %s", data.rows, len(data.files), run.id)
    try:
        deliveries.record(session, run, data.windows, location=location or str(path), files=len(data.files))
    except Exception:  # noqa: BLE001 - the data has landed; only the note of its delivery is lost
        session.rollback()
        log.exception("could not record the delivery of run %s", run.id)
    session.refresh(run)  # loaded again after the commit, so callers can read it once the session is closed
    return FocusImport(
        run=run,
        files=data.files,
        rows_read=data.rows,
        daily_rows=data.daily_rows,
        resource_rows=data.resource_rows,
        windows=data.windows,
    )


@dataclass(frozen=True)
class Listing:
    """What a location holds now: (name, version, size) of each billing file, and a digest of them all. The
    version is the ETag in S3 (new content, new ETag) and the modification time (ns) of a local file."""

    location: str
    entries: tuple[tuple[str, str, int], ...]
    objects: tuple[focus_s3.S3Object, ...] = ()  # S3 only: what to download

    @property
    def digest(self) -> str:
        text = "\n".join(f"{name}\t{version}\t{size}" for name, version, size in self.entries)
        return hashlib.sha256(text.encode()).hexdigest()


def look(location: str, client=None) -> Listing:
    """List the billing files at `location` (a path, or s3://... through `client`) without reading them;
    FocusError (S3Refused) or S3Unavailable when that fails."""
    if focus_s3.is_s3(location):
        objects = focus_s3.billing_objects(client, location)
        entries = tuple((o.key, o.etag, o.size) for o in objects)
        return Listing(location, entries, tuple(objects))
    files = focus.billing_files(Path(location))
    stats = [(f, f.stat()) for f in files]
    return Listing(location, tuple((str(f), str(st.st_mtime_ns), st.st_size) for f, st in stats))


def import_location(
    session: Session, location: str, *, provider: str | None = None, client=None, listing: Listing | None = None
) -> FocusImport:
    """Import the FOCUS files at `location`: a path (as `import_focus`) or s3://bucket/prefix, whose billing files
    (`listing`'s, else listed now) are downloaded to a temporary folder first. All or nothing: FocusError (naming
    the s3:// object) or S3Unavailable before anything is written."""
    if not focus_s3.is_s3(location):
        return import_focus(session, Path(location), provider=provider)
    listing = listing or look(location, client)
    bucket, _ = focus_s3.split(location)
    with tempfile.TemporaryDirectory(prefix="finops-focus-") as tmp:
        folder = Path(tmp)
        focus_s3.download(client, location, list(listing.objects), folder)
        try:
            done = import_focus(session, folder, provider=provider, location=location)
        except focus.FocusError as exc:  # name the object, not the temporary copy
            message = str(exc).replace(f"{folder}/", f"s3://{bucket}/").replace(str(folder), location)
            raise focus.FocusError(message) from None
    done.files = [Path(o.key) for o in listing.objects]  # the temporary copies are gone: the keys read
    return done
