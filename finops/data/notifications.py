"""Where budget alerts go, the one module that writes the outbox (notification) and the inbox's read marks.

- The in-app **inbox** is the alerts themselves: every alert is in the inbox of the budget's people (its owner,
  the user or group owner it is about) and of admins; the sidebar badge counts the ones they have not seen.
- **Email** (SMTP, FINOPS_SMTP_*) and **webhooks** (FINOPS_CHANNELS; a Slack-compatible JSON body whose `text`
  Slack and Mattermost show) go through the outbox: one row per alert and channel (a unique constraint), sent by
  the sidecar, retried with backoff (1, 2, 4 ... 60 minutes, MAX_ATTEMPTS in all), then shown as failed.
- A row is marked `sending` (committed) before it is sent and `delivered` after, so a delivered alert is never
  sent twice; one the sidecar died while sending is marked `unknown` at the next start, not sent again.

The standard library's smtplib and urllib do the sending: their errors are precise enough to name the setting
to fix, and nothing else is needed for SMTP and a JSON POST.
"""

import email.policy
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from finops.budgeting.specs import EMAIL_PREFIX, INBOX
from finops.data import audit, budgets, db
from finops.data.access import Actor, Forbidden, NotFound
from finops.data.tables import BudgetAlert, InboxSeen, Notification, utcnow

BACKOFF_MINUTES = (1, 2, 4, 8, 16, 32, 60)
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
PENDING, SENDING, DELIVERED, FAILED, UNKNOWN = "pending", "sending", "delivered", "failed", "unknown"
ALERT_COLUMNS = ["id", "created_at", "budget", "owner", "period", "threshold", "on", "value", "limit", "amount",
                 "basis", "message", "deliveries"]  # fmt: skip
DELIVERY_COLUMNS = ["id", "alert_id", "channel", "kind", "status", "attempts", "next_attempt_at", "delivered_at",
                    "last_error"]  # fmt: skip


class DeliveryError(RuntimeError):
    """A channel could not take a message; the message names the setting or channel to fix."""


def channel_target(settings: Any, name: str) -> tuple[str, str]:
    """(kind, target) of a channel: ("email", "a@x,b@y") or ("webhook", URL); DeliveryError when unknown."""
    if name.startswith(EMAIL_PREFIX):
        return "email", name[len(EMAIL_PREFIX) :]
    target = (settings.channels or {}).get(name)
    if target is None:
        raise DeliveryError(f"channel {name!r}: not defined in FINOPS_CHANNELS (any more)")
    if target.lower().startswith("mailto:"):
        return "email", target[len("mailto:") :]
    return "webhook", target


def enqueue(session: Session, *, alert_id: int, channels: list[str], subject: str, body: str, settings: Any) -> int:
    """Queue the alert for each channel but the inbox (at most once per channel); the count queued. A channel no
    longer defined is queued as failed, so the alert shows why it did not go there. The caller commits."""
    queued = 0
    for name in dict.fromkeys(channels):
        if name == INBOX:
            continue
        values = {"alert_id": alert_id, "channel": name, "subject": subject[:300], "body": body, "status": PENDING,
                  "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow()}  # fmt: skip
        try:
            values["kind"] = channel_target(settings, name)[0]
        except DeliveryError as exc:
            values.update(kind="unknown", status=FAILED, last_error=str(exc))
        queued += db.insert_new(session, Notification, values, ["alert_id", "channel"]) is not None
    return queued


# ---- sending -------------------------------------------------------------------------------------------------


def send_email(settings: Any, addresses: str, subject: str, body: str, channel: str) -> None:
    """Send one email through FINOPS_SMTP_*; DeliveryError naming the setting (or channel) at fault."""
    if not settings.smtp_host:
        raise DeliveryError("FINOPS_SMTP_HOST: not set, so email channels cannot send")
    to = [a.strip() for a in addresses.split(",") if a.strip()]
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))  # RFC 5322's limit: no folding
    message["Subject"], message["From"], message["To"] = subject, settings.smtp_sender, ", ".join(to)
    message.set_content(body)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        client: smtplib.SMTP
        if settings.smtp_tls == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS,
                                      context=ssl.create_default_context())  # fmt: skip
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        with client:
            if settings.smtp_tls == "starttls":
                try:
                    client.starttls(context=ssl.create_default_context())
                except smtplib.SMTPNotSupportedError:
                    raise DeliveryError(f"FINOPS_SMTP_TLS: {where} does not offer STARTTLS (none: a local relay; "
                                        "ssl: port 465)") from None  # fmt: skip
            if settings.smtp_user:
                try:
                    client.login(settings.smtp_user, settings.smtp_password)
                except smtplib.SMTPNotSupportedError:
                    raise DeliveryError(f"FINOPS_SMTP_USER: {where} offers no login; leave it empty") from None
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"FINOPS_SMTP_USER / FINOPS_SMTP_PASSWORD: {where} refused the login ({_smtp(exc)})"
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise DeliveryError(f"FINOPS_SMTP_SENDER: {where} refused {settings.smtp_sender} ({_smtp(exc)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise DeliveryError(f"channel {channel!r}: {where} refused {refused}") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"FINOPS_SMTP_HOST: {where} refused the message ({_smtp(exc)})") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"FINOPS_SMTP_TLS: TLS with {where} failed ({exc.reason or exc})") from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DeliveryError(f"FINOPS_SMTP_HOST: cannot reach {where} ({reason})") from None


def _smtp(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()


def post_webhook(url: str, payload: dict, channel: str) -> None:
    """POST the JSON payload; DeliveryError unless the answer is 2xx. The URL is never shown (it holds a token)."""
    host = urlsplit(url).hostname or "?"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "finops"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (http(s) only: settings check)
            answer.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"channel {channel!r}: HTTP {exc.code} from {host}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeliveryError(f"channel {channel!r}: cannot reach {host} ({reason})") from None


def send(settings: Any, channel: str, subject: str, body: str) -> None:
    """Send one message to a channel now (no outbox); DeliveryError says what went wrong."""
    kind, target = channel_target(settings, channel)
    if kind == "email":
        send_email(settings, target, subject, body, channel)
    else:
        post_webhook(target, {"text": f"*{subject}*\n{body}", "username": "FinOps", "subject": subject,
                              "body": body}, channel)  # fmt: skip


def test_channel(settings: Any, channel: str) -> str:
    """Send a test message; what was done (DeliveryError when it failed)."""
    send(settings, channel, "FinOps: test message", f"This is a test of the {channel!r} channel from FinOps.")
    return f"test message sent to {channel}"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def deliver_due(*, session: Session, settings: Any, now: datetime | None = None, limit: int = 200) -> dict:
    """Send what is due, oldest first; counts {"delivered", "retrying", "failed"}. After a channel fails, its
    other messages wait for the same retry (a dead server is tried once a round, not once a message)."""
    now = now or datetime.now(UTC)
    stmt = (
        select(Notification)
        .where(col(Notification.status) == PENDING, col(Notification.next_attempt_at) <= now)
        .order_by(col(Notification.id))
        .limit(limit)
    )
    due = list(session.execute(stmt).scalars())
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    broken: dict[str, tuple[datetime, str]] = {}
    for row in due:
        if row.channel in broken:
            row.next_attempt_at, row.last_error = broken[row.channel]
            session.add(row)
            session.commit()
            continue
        row.status, row.attempts = SENDING, row.attempts + 1
        session.add(row)
        session.commit()  # durable before the send: a crash now leaves `sending`, never a second send
        try:
            send(settings, row.channel, row.subject, row.body)
        except DeliveryError as exc:
            if row.attempts >= MAX_ATTEMPTS:
                row.status = FAILED
                counts["failed"] += 1
            else:
                row.status = PENDING
                row.next_attempt_at = now + timedelta(
                    minutes=BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
                )
                counts["retrying"] += 1
            row.last_error = str(exc)
            broken[row.channel] = (row.next_attempt_at, row.last_error)
        else:
            row.status, row.delivered_at, row.last_error = DELIVERED, utcnow(), None
            counts["delivered"] += 1
        session.add(row)
        session.commit()
    return counts


def close_interrupted(*, session: Session) -> int:
    """Messages a stopped sidecar was sending: `unknown` (they may have arrived), never sent again."""
    sending = col(Notification.status) == SENDING
    count = len(session.execute(select(col(Notification.id)).where(sending)).all())
    why = "the sidecar stopped while sending: it may have arrived, so it is not sent again"
    session.execute(update(Notification).where(sending).values(status=UNKNOWN, last_error=why))
    session.commit()
    return count


def retry(*, session: Session, actor: Actor, notification_id: int) -> Notification:
    """Queue a failed or unknown message again (a person's choice: it may arrive twice); audited."""
    row = session.get(Notification, int(notification_id))
    alert = session.get(BudgetAlert, row.alert_id) if row is not None else None
    if row is None or alert is None or not may_see_alert(session, actor, alert):
        raise NotFound(f"no delivery {notification_id}")
    if row.status not in (FAILED, UNKNOWN):
        raise Forbidden(f"delivery {row.id} is {row.status}: only a failed or unknown one is sent again")
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, utcnow()
    session.add(row)
    audit.record(session, actor.username, "retry_delivery", "budget", alert.budget_id,
                 {"delivery": row.id, "channel": row.channel})  # fmt: skip
    session.commit()
    return row


# ---- the inbox -----------------------------------------------------------------------------------------------


def may_see_alert(session: Session, actor: Actor, alert: BudgetAlert, budget_ids: set[int] | None = None) -> bool:
    if actor.is_admin or alert.owner == actor.username:
        return True
    if budget_ids is None:
        budget_ids = {b.id for b in budgets.visible(session, actor) if b.id is not None}
    return alert.budget_id in budget_ids


def _visible_alerts(session: Session, actor: Actor, since_id: int = 0, limit: int = 500) -> list[BudgetAlert]:
    stmt = select(BudgetAlert).where(col(BudgetAlert.id) > since_id).order_by(col(BudgetAlert.id).desc())
    if actor.is_admin:
        return list(session.execute(stmt.limit(limit)).scalars())
    ids = {b.id for b in budgets.visible(session, actor) if b.id is not None}
    stmt = stmt.where((col(BudgetAlert.owner) == actor.username) | col(BudgetAlert.budget_id).in_(ids))
    return list(session.execute(stmt.limit(limit)).scalars())


def unread_count(*, session: Session, actor: Actor) -> int:
    """Alerts the actor may see and has not seen in the inbox yet (the sidebar badge)."""
    seen = session.get(InboxSeen, actor.username)
    return len(_visible_alerts(session, actor, seen.last_alert_id if seen else 0, limit=1000))


def mark_read(*, session: Session, actor: Actor) -> None:
    """Everything in the actor's inbox now counts as seen."""
    newest = session.execute(select(func.max(BudgetAlert.id))).scalar() or 0
    seen = session.get(InboxSeen, actor.username) or InboxSeen(username=actor.username)
    seen.last_alert_id, seen.seen_at = max(seen.last_alert_id, newest), utcnow()
    session.add(seen)
    session.commit()


def alerts(*, session: Session, actor: Actor, budget_id: int | None = None, limit: int = 500) -> pd.DataFrame:
    """Alerts the actor may see, newest first (ALERT_COLUMNS; deliveries sums up each channel's status)."""
    rows = [a for a in _visible_alerts(session, actor, limit=limit) if budget_id is None or a.budget_id == budget_id]
    sent = deliveries_of(session, [a.id for a in rows if a.id is not None])
    out = []
    for a in rows:
        mine = sent[sent["alert_id"] == a.id] if not sent.empty else sent
        summary = ", ".join(f"{c}: {s}" for c, s in zip(mine["channel"], mine["status"], strict=True))
        out.append([a.id, a.created_at, a.budget_name, a.owner, f"{a.period_start} - {a.period_end}", a.threshold, a.on,
                    a.value_micros / 1e6, a.limit_micros / 1e6, a.amount_micros / 1e6, a.basis, a.message,
                    ", ".join(filter(None, ["inbox", summary]))])  # fmt: skip
    return pd.DataFrame(out, columns=ALERT_COLUMNS)


def deliveries_of(session: Session, alert_ids: list[int]) -> pd.DataFrame:
    stmt = select(Notification).where(col(Notification.alert_id).in_(alert_ids)).order_by(col(Notification.id))
    rows = [[n.id, n.alert_id, n.channel, n.kind, n.status, n.attempts, n.next_attempt_at, n.delivered_at, n.last_error]
            for n in session.execute(stmt).scalars()]  # fmt: skip
    return pd.DataFrame(rows, columns=DELIVERY_COLUMNS)


def deliveries(*, session: Session, actor: Actor, limit: int = 500) -> pd.DataFrame:
    """Every delivery of the alerts the actor may see, newest first (DELIVERY_COLUMNS)."""
    ids = [a.id for a in _visible_alerts(session, actor, limit=limit) if a.id is not None]
    return deliveries_of(session, ids).sort_values("id", ascending=False).reset_index(drop=True)
