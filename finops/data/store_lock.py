"""One sidecar per store: a lock the operating system or the database server releases when its holder dies.

SQLite: an exclusive `flock` on `<store file>.sidecar-lock` beside the store (the kernel drops it with the
process, SIGKILL included). PostgreSQL: a session-level advisory lock held on a connection of its own (the
server drops it with the connection). A second sidecar gets False from `acquire` and waits; a sidecar killed and
started again gets the lock at once. `held_elsewhere` lets the UI and the CLI tell whether a sidecar is running.
"""

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
# pg_try_advisory_lock(int, int): a fixed pair that names "the FinOps sidecar" within one database
PG_KEY = (0x46696E4F, 0x70730001)


def _sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    return None if not database or database == ":memory:" else Path(database)


class StoreLock:
    """The sidecar's hold on a store; `acquire` never blocks."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._fd: int | None = None
        self._conn: Connection | None = None
        self._pg_engine: Engine | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if no live process holds it; True when this object holds it (already, or now)."""
        if self.held:
            return True
        if self.engine.dialect.name == "sqlite":
            return self._acquire_file()
        return self._acquire_advisory()

    def _acquire_file(self) -> bool:
        path = _sqlite_path(self.engine)
        if path is None:  # an in-memory store belongs to one process anyway
            self._fd = -1
            return True
        fd = os.open(f"{path}.sidecar-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def _acquire_advisory(self) -> bool:
        # its own engine without a pool: the lock lives exactly as long as this one connection
        self._pg_engine = self._pg_engine or create_engine(self.engine.url, poolclass=NullPool)
        conn = self._pg_engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": PG_KEY[0], "b": PG_KEY[1]}).scalar()
        conn.commit()
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def alive(self) -> bool:
        """True while the lock is still ours (a PostgreSQL connection can drop: the server then released it)."""
        if self._conn is None:
            return self._fd is not None
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means the lock's connection is gone
            log.warning("the store lock's connection dropped: %s", exc)
            self._drop_connection()
            return False

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001, S110 - already broken
                pass
            self._conn = None

    def release(self) -> None:
        """Give the lock up (a clean stop); a dead process gives it up without this."""
        if self._fd is not None:
            if self._fd >= 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": PG_KEY[0], "b": PG_KEY[1]})
                self._conn.commit()
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                pass
            self._drop_connection()
        if self._pg_engine is not None:
            self._pg_engine.dispose()
            self._pg_engine = None


def held_elsewhere(engine: Engine) -> bool:
    """True when some process holds the sidecar lock of this store (a sidecar is running on it)."""
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine)
        if path is None or not Path(f"{path}.sidecar-lock").exists():
            return False
        fd = os.open(f"{path}.sidecar-lock", os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's own shared lock
        return False
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :a "
                "AND objid = :b AND objsubid = 2 AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            ),
            {"a": PG_KEY[0], "b": PG_KEY[1]},
        ).scalar()
    return bool(count)
