"""Every billed Cost Explorer request, counted and capped: the `ce_api_call` table and its one gate.

A `Recorder` watches a boto3 Cost Explorer client through botocore's event hooks, so every request that
client makes passes it, whichever code makes it. Before a request it checks the daily cap
(`aws_max_requests_per_day`, counted since midnight UTC, failed requests included) and refuses the request
with BudgetExceeded; after it, it writes one `ce_api_call` row: USD 0.01 when the request succeeded, 0 when
it failed, with botocore's retry count. Rows are committed as they are written (spend is a fact even if the
refresh later fails); `attach` links them to the refresh run once it exists.
"""

from collections.abc import Callable
from datetime import UTC, datetime, time

from sqlalchemy import func, select, update
from sqlmodel import Session

from finops.data.aws_errors import error_code, response_code
from finops.data.tables import CeApiCall, utcnow

PRICE_USD = 0.01  # per Cost Explorer API request
HOOK_ID = "finops-ce-recorder"  # one recorder per client: watching again replaces the previous one
_CALL = "finops_ce_call"  # botocore's per-request context key: (operation, page)


class BudgetExceeded(RuntimeError):
    """A Cost Explorer request would pass the daily cap (`aws_max_requests_per_day`)."""


class Recorder:
    """Records every request of the Cost Explorer clients it `watch`es in `ce_api_call`, under a daily cap."""

    def __init__(self, session: Session, max_per_day: int, *, now: Callable[[], datetime] = utcnow):
        self.session = session
        self.max_per_day = max_per_day
        self.now = now
        self.ids: list[int] = []
        self._pages: dict[str, int] = {}

    def watch(self, client) -> None:
        """Route every request of `client` (boto3 "ce") through this recorder, instead of any earlier one."""
        events = client.meta.events
        service = client.meta.service_model.service_id.hyphenize()
        # provide-client-params is the first event of a call: the cap is checked before the parameters are
        # validated or anything is sent. after-call follows every response, an error one included (after
        # botocore's retries); after-call-error follows a request that got no response at all.
        for event, handler in (
            (f"provide-client-params.{service}", self._before),
            (f"after-call.{service}", self._after),
            (f"after-call-error.{service}", self._failed),
        ):
            events.unregister(event, unique_id=f"{HOOK_ID}:{event}")
            events.register(event, handler, unique_id=f"{HOOK_ID}:{event}")

    def used_today(self) -> int:
        """Requests already recorded today (UTC), failed ones included."""
        midnight = datetime.combine(self.now().astimezone(UTC).date(), time(0), tzinfo=UTC)
        count = select(func.count()).select_from(CeApiCall).where(CeApiCall.called_at >= midnight)
        return int(self.session.execute(count).scalar_one())

    def check(self) -> None:
        """Raise BudgetExceeded when today's requests reached the cap."""
        used = self.used_today()
        if used >= self.max_per_day:
            raise BudgetExceeded(
                f"daily cap of {self.max_per_day} Cost Explorer requests reached ({used} made today, "
                f"USD {PRICE_USD:.2f} each); refresh stopped without spending more "
                "(raise FINOPS_AWS_MAX_REQUESTS_PER_DAY or wait until tomorrow, UTC)"
            )

    def attach(self, run_id: int | None) -> None:
        """Link the rows recorded since the last `attach` to the refresh run `run_id`."""
        if run_id is None or not self.ids:
            return
        self.session.execute(update(CeApiCall).where(CeApiCall.id.in_(self.ids)).values(run_id=run_id))
        self.session.commit()
        self.ids = []

    # --- botocore event handlers ------------------------------------------------------------------

    def _before(self, params: dict, model, context: dict, **_kwargs) -> None:
        """Refuse a request past the cap; number its page (the next one when it carries a NextPageToken)."""
        self.check()
        page = self._pages.get(model.name, 0) + 1 if params.get("NextPageToken") else 1
        self._pages[model.name] = page
        context[_CALL] = (model.name, page)

    def _after(self, http_response, parsed: dict, context: dict, event_name: str, **_kwargs) -> None:
        operation, page = context.get(_CALL) or (event_name.rsplit(".", 1)[-1], 1)
        retries = int((parsed.get("ResponseMetadata") or {}).get("RetryAttempts") or 0)
        failed = http_response.status_code >= 300
        self._write(operation, page, error=response_code(parsed) if failed else None, retries=retries)

    def _failed(self, exception: Exception, context: dict, event_name: str, **_kwargs) -> None:
        operation, page = context.get(_CALL) or (event_name.rsplit(".", 1)[-1], 1)
        self._write(operation, page, error=error_code(exception), retries=0)

    def _write(self, operation: str, page: int, *, error: str | None, retries: int) -> None:
        row = CeApiCall(
            called_at=self.now(),
            operation=operation,
            page=page,
            status="error" if error else "ok",
            error_code=error,
            retries=retries,
            cost_usd=0.0 if error else PRICE_USD,
        )
        self.session.add(row)
        self.session.commit()
        self.ids.append(row.id)
