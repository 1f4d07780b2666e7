"""Alert delivery to real receivers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP webhook receiver. A
delivered alert is never sent twice (re-evaluations, a restarted sidecar, a crash while sending); a failing
receiver is retried with backoff and then delivered once; the messages name the setting to fix; the inbox
badge counts what a person has not seen."""

import email
import email.policy
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select
from sqlmodel import Session

from finops.data import budget_runs, notifications
from finops.data.tables import Notification, User
from finops.settings import Settings, get_settings
from tests.store.test_budgets import (  # noqa: F401  (fixtures)
    ADMIN,
    LEAD,
    NOV_11,
    OTHER,
    at,
    budget,
    evaluate,
    s,  # noqa: F401
    web,
)

CHANNELS = ("ops", "finance")


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ARG002 (aiosmtpd's hook)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    box = Mailbox()
    with socket.socket() as sock:  # aiosmtpd checks its server by connecting to the port it was given: not 0
        sock.bind(("127.0.0.1", 0))
        box.port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


class Receiver:
    """An HTTP server that answers `failures` requests with 500, then 200, and keeps what it received."""

    def __init__(self):
        self.bodies, self.failures = [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.bodies.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/B000/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def settings_for(smtp, hook, **extra) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", smtp_sender="finops@example.com",
                    channels={"ops": hook.url, "finance": "mailto:fin@example.com,cfo@example.com"}, platform_url="",
                    **extra)  # fmt: skip


def alerting_budget(session, settings):
    return budget(
        session,
        known=CHANNELS,
        thresholds=[{"at": 50, "channels": ["inbox", "ops", "finance", "email:lead@example.com"]}],
    )


def deliver(session, settings, moment):
    with at(moment):
        return notifications.deliver_due(session=session, settings=settings)


def test_an_alert_reaches_email_and_webhook_once(web, engine, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    alerting_budget(web, settings)
    assert evaluate(web, NOV_11, settings)["queued"] == 3
    assert deliver(web, settings, NOV_11) == {"delivered": 3, "retrying": 0, "failed": 0}
    (slack,) = hook.bodies
    assert slack["text"].startswith("*Budget web-team: actual spend $720.00 reached 50 % of actual (2026-11)*")
    assert "Actual to date: $720.00 (estimated)" in slack["text"] and slack["username"] == "FinOps"
    recipients = sorted(r for m in smtp.messages for r in m.rcpt_tos)
    assert recipients == ["cfo@example.com", "fin@example.com", "lead@example.com"]
    mail = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert mail["Subject"] == "Budget web-team: actual spend $720.00 reached 50 % of actual (2026-11)"
    assert "Forecast to period end: $2,160.00" in mail.get_content()
    # again, and after a restart: nothing new is queued or sent
    evaluate(web, NOV_11 + timedelta(hours=1), settings)
    with Session(engine) as fresh:
        evaluate(fresh, NOV_11 + timedelta(hours=2), settings)
        assert deliver(fresh, settings, NOV_11 + timedelta(hours=2)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(hook.bodies) == 1 and len(smtp.messages) == 2


def test_a_failing_receiver_is_retried_with_backoff_then_succeeds_once(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    budget(web, known=CHANNELS, thresholds=[{"at": 50, "channels": ["ops"]}, {"at": 60, "channels": ["ops"]}])
    evaluate(web, NOV_11, settings)
    hook.failures = 2
    # the first fails; the second message to the same channel waits with it instead of hitting it again
    assert deliver(web, settings, NOV_11) == {"delivered": 0, "retrying": 1, "failed": 0}
    rows = web.execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 0)]
    assert rows[0].last_error == "channel 'ops': HTTP 500 from 127.0.0.1" and "secret" not in rows[0].last_error
    assert rows[0].next_attempt_at.replace(tzinfo=UTC) == NOV_11 + timedelta(minutes=1)
    assert deliver(web, settings, NOV_11 + timedelta(seconds=30)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert deliver(web, settings, NOV_11 + timedelta(minutes=1)) == {"delivered": 0, "retrying": 1, "failed": 0}
    assert web.get(Notification, rows[0].id).next_attempt_at.replace(tzinfo=UTC) == NOV_11 + timedelta(minutes=3)
    assert deliver(web, settings, NOV_11 + timedelta(minutes=3)) == {"delivered": 2, "retrying": 0, "failed": 0}
    assert deliver(web, settings, NOV_11 + timedelta(hours=3)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(hook.bodies) == 2
    frame = notifications.deliveries(session=web, actor=LEAD)
    assert frame["status"].tolist() == ["delivered", "delivered"] and frame["attempts"].tolist() == [1, 3]


def test_a_receiver_that_never_answers_ends_failed_and_shown(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    budget(web, known=CHANNELS, thresholds=[{"at": 50, "channels": ["ops"]}])
    evaluate(web, NOV_11, settings)
    hook.failures = 100
    moment = NOV_11
    for _ in range(notifications.MAX_ATTEMPTS):
        deliver(web, settings, moment)
        moment += timedelta(hours=1)
    row = web.execute(select(Notification)).scalars().one()
    assert (row.status, row.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    alerts = notifications.alerts(session=web, actor=LEAD)
    assert alerts["deliveries"].tolist() == ["inbox, ops: failed"]
    hook.failures = 0
    with at(moment):
        notifications.retry(session=web, actor=LEAD, notification_id=row.id)  # a person asks for it again
    assert deliver(web, settings, moment)["delivered"] == 1 and len(hook.bodies) == 1


def test_a_crash_while_sending_never_sends_twice(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    budget(web, known=CHANNELS, thresholds=[{"at": 50, "channels": ["ops"]}])
    evaluate(web, NOV_11, settings)
    row = web.execute(select(Notification)).scalars().one()
    row.status, row.attempts = "sending", 1  # what a sidecar killed inside send() leaves behind
    web.commit()
    assert notifications.close_interrupted(session=web) == 1
    assert deliver(web, settings, NOV_11 + timedelta(hours=1))["delivered"] == 0
    web.refresh(row)
    assert row.status == "unknown" and "not sent again" in row.last_error and hook.bodies == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"smtp_host": ""}, "FINOPS_SMTP_HOST: not set"),
        ({"smtp_port": 1}, "FINOPS_SMTP_HOST: cannot reach 127.0.0.1:1"),
        ({"smtp_tls": "starttls"}, "FINOPS_SMTP_TLS: 127.0.0.1:"),
        ({"smtp_user": "u", "smtp_password": "p"}, "FINOPS_SMTP_USER: 127.0.0.1:[0-9]+ offers no login"),
    ],
)
def test_an_smtp_server_that_refuses_is_named(smtp, hook, extra, message):
    settings = settings_for(smtp, hook).model_copy(update=extra)
    with pytest.raises(notifications.DeliveryError, match=message):
        notifications.test_channel(settings, "finance")


def test_a_refused_login_and_a_refused_sender_are_named(hook):
    def check(server, session, envelope, mechanism, auth_data):  # noqa: ARG001 (aiosmtpd's signature)
        login, password = (v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password))
        return AuthResult(success=(login, password) == ("finops", "right"), handled=False)  # False: it answers 535

    class Picky(Mailbox):
        async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802, ARG002
            if address != "finops@example.com":
                return "553 sender not allowed"
            envelope.mail_from = address
            return "250 OK"

    box = Picky()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
    controller.start()
    try:
        base = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_user="finops",
                        smtp_sender="finops@example.com", channels={"finance": "mailto:fin@example.com"})  # fmt: skip
        with pytest.raises(
            notifications.DeliveryError, match=r"FINOPS_SMTP_USER / FINOPS_SMTP_PASSWORD: .* refused the login \(535"
        ):
            notifications.test_channel(base.model_copy(update={"smtp_password": "wrong"}), "finance")
        with pytest.raises(notifications.DeliveryError, match=r"FINOPS_SMTP_SENDER: .* refused bad@example.com \(553"):
            notifications.test_channel(
                base.model_copy(update={"smtp_password": "right", "smtp_sender": "bad@example.com"}), "finance"
            )
        assert (
            notifications.test_channel(base.model_copy(update={"smtp_password": "right"}), "finance")
            == "test message sent to finance"
        )
        assert len(box.messages) == 1
    finally:
        controller.stop()


def test_a_webhook_that_cannot_be_reached_is_named_without_its_token(smtp, hook):
    settings = settings_for(smtp, hook).model_copy(update={"channels": {"ops": "http://127.0.0.1:1/T/B/token"}})
    with pytest.raises(notifications.DeliveryError, match=r"channel 'ops': cannot reach 127.0.0.1 \(") as info:
        notifications.test_channel(settings, "ops")
    assert "token" not in str(info.value)


def test_a_delivery_failure_never_blocks_evaluation(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook).model_copy(update={"smtp_port": 1})
    budget(web, known=CHANNELS, thresholds=[{"at": 50, "channels": ["finance"]}])
    budget(web, name="second", known=CHANNELS, thresholds=[{"at": 10, "channels": ["ops"]}])
    assert evaluate(web, NOV_11, settings)["alerts"] == 2  # delivery is another step: evaluation never waits on it
    assert deliver(web, settings, NOV_11) == {"delivered": 1, "retrying": 1, "failed": 0}


def test_a_channel_removed_from_settings_shows_why_it_was_not_sent(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    budget(web, known=CHANNELS, thresholds=[{"at": 50, "channels": ["ops"]}])
    evaluate(web, NOV_11, settings.model_copy(update={"channels": {}}))
    row = web.execute(select(Notification)).scalars().one()
    assert row.status == "failed" and "not defined in FINOPS_CHANNELS" in row.last_error


def test_the_inbox_badge_counts_unseen_alerts_for_the_budgets_people_and_admins(web, smtp, hook):  # noqa: F811
    settings = settings_for(smtp, hook)
    budget(web)
    evaluate(web, NOV_11, settings)
    assert [notifications.unread_count(session=web, actor=a) for a in (ADMIN, LEAD, OTHER)] == [2, 2, 0]
    notifications.mark_read(session=web, actor=LEAD)
    assert [notifications.unread_count(session=web, actor=a) for a in (ADMIN, LEAD, OTHER)] == [2, 0, 0]
    evaluate(web, datetime(2026, 12, 20, tzinfo=UTC), settings)
    assert notifications.unread_count(session=web, actor=LEAD) == 2
    assert len(notifications.alerts(session=web, actor=OTHER)) == 0
    assert budget_runs.last_evaluated(web) is not None


def test_the_sidecar_jobs_evaluate_on_change_and_send_once_across_a_restart(store, monkeypatch, smtp, hook):
    """The sidecar's own jobs on a real store: a new budget is evaluated at the next poll, its alerts sent once;
    a restarted sidecar (nothing in memory) evaluates again and sends nothing more."""
    from finops.jobs import tasks
    from tests.store.test_budgets import budget as save_budget

    monkeypatch.setenv("FINOPS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FINOPS_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("FINOPS_SMTP_TLS", "none")
    monkeypatch.setenv("FINOPS_CHANNELS", json.dumps({"ops": hook.url}))
    monkeypatch.setattr(tasks, "_budgets_seen", {"key": None, "at": None})
    get_settings.cache_clear()
    with Session(store) as session:
        for name, role in (("admin", "admin"), ("lead", "member")):
            session.add(User(username=name, role=role, password_hash="-"))
        session.commit()
        with at(NOV_11 - timedelta(days=10)):
            from finops.data import groups, resources

            resources.add_resource(session=session, resource_type="app", resource_id="w", name="w", owner="lead",
                                   state="running", hourly_cost=10.0)  # fmt: skip
            groups.create_group(session=session, actor=LEAD, name="web", resources=[("app", "w")])
            save_budget(session, known=CHANNELS, thresholds=[{"at": 50, "channels": ["ops", "email:lead@example.com"]}])
    with at(NOV_11):
        tasks.evaluate_budgets()
        tasks.budget_outbox()
        tasks.evaluate_budgets()  # nothing changed and under an hour: not evaluated again
        monkeypatch.setattr(tasks, "_budgets_seen", {"key": None, "at": None})  # a restart
        assert tasks.close_interrupted() == 0
        tasks.evaluate_budgets()
        tasks.budget_outbox()
    assert len(hook.bodies) == 1 and len(smtp.messages) == 1
    with Session(store) as session:
        assert [n.status for n in session.execute(select(Notification)).scalars()] == ["delivered", "delivered"]
