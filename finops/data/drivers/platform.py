"""The platform driver: keeps the desired state through `record` (the store) and, when `platform_url` is
configured, tells the platform by POSTing `{"resource_type", "resource_id", "action"}` to
`{platform_url}/resources/{type}/{id}/{action}`.

The driver cannot see the platform's actual state: `state` answers the last desired state it recorded in this
process, else `unknown` (the store keeps the desired state as the resource's state).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from finops.data.drivers import RUNNING, STOPPED, UNKNOWN, DriverError, ResourceRef

TIMEOUT_SECONDS = 10

Record = Callable[[ResourceRef, str], None]


class PlatformDriver:
    def __init__(self, settings: Any, record: Record | None = None):
        self.url = (getattr(settings, "platform_url", "") or "").rstrip("/")
        self.record = record
        self._desired: dict[tuple[str, str], str] = {}

    @property
    def records_only(self) -> bool:
        """True without a platform URL: a stop or start only records the desired state, nothing is told."""
        return not self.url

    def capacity(self, ref: ResourceRef) -> dict:  # noqa: ARG002 - the platform keeps nothing to restore
        return {}

    def state(self, ref: ResourceRef) -> str:
        return self._desired.get((ref.resource_type, ref.resource_id), UNKNOWN)

    def stop(self, ref: ResourceRef) -> dict:
        self._apply(ref, "stop", STOPPED)
        return {}

    def start(self, ref: ResourceRef, saved: dict) -> None:  # noqa: ARG002 - nothing saved for the platform
        self._apply(ref, "start", RUNNING)

    def _apply(self, ref: ResourceRef, action: str, desired: str) -> None:
        if self.record is not None:
            self.record(ref, desired)
        self._desired[(ref.resource_type, ref.resource_id)] = desired
        if self.url:
            self._call(ref, action)

    def _call(self, ref: ResourceRef, action: str) -> None:
        quote = urllib.parse.quote
        url = f"{self.url}/resources/{quote(ref.resource_type, safe='')}/{quote(ref.resource_id, safe='')}/{action}"
        body = json.dumps({"resource_type": ref.resource_type, "resource_id": ref.resource_id, "action": action})
        req = urllib.request.Request(
            url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 - configured URL
                resp.read()
        except urllib.error.HTTPError as exc:
            raise DriverError(f"cannot {action} {ref}: the platform answered HTTP {exc.code} at {url}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DriverError(f"cannot {action} {ref}: the platform at {url} is unreachable ({reason})") from exc
