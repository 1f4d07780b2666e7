"""The sidecar's jobs: module-level functions the scheduler calls; each opens its own session."""

import os
import socket
from datetime import UTC, datetime

from finops.data import db
from finops.data.tables import Heartbeat

SIDECAR = "sidecar"
STARTED_AT = datetime.now(UTC)  # imported when the sidecar starts: the process's start time


def heartbeat(name: str = SIDECAR) -> None:
    """Record that this process is alive: upsert the `name` heartbeat row (pid, host, started_at, beat_at)."""
    now = datetime.now(UTC)
    with db.session() as s:
        row = s.get(Heartbeat, name) or Heartbeat(name=name, pid=0, host="", started_at=STARTED_AT, beat_at=now)
        row.pid, row.host, row.started_at, row.beat_at = os.getpid(), socket.gethostname(), STARTED_AT, now
        s.add(row)
        s.commit()
