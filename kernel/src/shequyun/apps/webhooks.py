"""Outbound webhooks, signed per Standard Webhooks 1.0.

Each delivery is one event for one app (made by the feed's sequencer, so only events of the
app's units and types). The dispatcher claims due deliveries with a lease, sends them from a
pool of threads (each request has its own timeout, and one app has at most
:data:`PER_APP_IN_FLIGHT` requests in flight, so a slow receiver never holds up the others),
and records every attempt in the delivery log. A failure is retried with backoff; after
:data:`MAX_ATTEMPTS` the delivery is dead-lettered; an app whose last
:data:`PAUSE_AFTER_DEAD` finished deliveries all died is paused until an administrator resumes
it. Dead deliveries can be replayed (admin page and API).

Headers: ``webhook-id`` (``evt_<event id>``, the same on every retry: receivers de-duplicate
on it), ``webhook-timestamp`` (seconds), ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
id.timestamp.body>``, one per active secret, space-separated, while a secret rotates).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shequyun_sdk import NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..event_sealing import public
from ..events import OutboxEvent
from ..identity import audit
from ..outages import OutageWatch
from .models import ExternalApp, WebhookAttempt, WebhookDelivery, aware
from .service import AppService

__all__ = ["MAX_ATTEMPTS", "WebhookDispatcher", "sign"]

log = logging.getLogger("shequyun.webhooks")

MAX_ATTEMPTS = 8
#: Backoff after attempt n (1-based): 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h.
BACKOFF = (10, 60, 300, 1800, 7200, 21600, 43200)
PAUSE_AFTER_DEAD = 5
PER_APP_IN_FLIGHT = 8
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)
USER_AGENT = "shequyun-webhooks/1"


def utcnow() -> datetime:
    return datetime.now(UTC)


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<signature>`` for each ``whsec_`` secret."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    parts = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, content, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(digest).decode())
    return " ".join(parts)


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    app_id: int
    url: str
    msg_id: str
    body: bytes
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[Outgoing, int], Outcome]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer that is not 2xx: a failed attempt, not an address to go on to.
    urllib would follow it (a POST as a GET, the signed ``webhook-*`` headers kept) to any
    host the receiver names, one inside the platform's own network included."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def http_send(outgoing: Outgoing, timestamp: int) -> Outcome:
    """POST the delivery; any 2xx is success, anything else (a redirect too, which is not
    followed, or no answer in time) fails."""
    request = urllib.request.Request(
        outgoing.url,
        data=outgoing.body,
        method="POST",
        headers={
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": outgoing.msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(outgoing.secrets, outgoing.msg_id, timestamp, outgoing.body),
        },
    )
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(4096)
            status: int | None = response.status
            error = None
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # refused, reset, timed out, DNS: the receiver did not answer
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return Outcome(status, error, int((time.monotonic() - started) * 1000))


class WebhookDispatcher:
    """Claims due deliveries, sends them concurrently, records the outcome."""

    def __init__(
        self, engine: Engine, apps: AppService, sender: Sender = http_send, threads: int = 16
    ) -> None:
        self.engine = engine
        self.apps = apps
        self.sender = sender
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: dict[int, int] = {}
        self._outcomes: queue.SimpleQueue[tuple[Outgoing, Outcome, datetime]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round -------------------------------------------------------------------------

    def deliver_due(
        self, *, limit: int = 200, now: Callable[[], datetime] = utcnow, wait: bool = True
    ) -> int:
        """Start sending up to ``limit`` due deliveries, each in a pool thread that records its
        own outcome; return how many were started. ``wait=False`` returns at once: a receiver
        that takes its whole timeout then delays nobody (the background loop works so)."""
        batch = self._claim(limit, now())
        if not batch:
            return 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="webhook")
        futures = [self._pool.submit(self._send_one, outgoing, now) for outgoing in batch]
        if wait:
            for future in futures:
                future.result()
            self.flush()
        return len(batch)

    def _send_one(self, outgoing: Outgoing, now: Callable[[], datetime]) -> None:
        # The outcome is recorded with the others of its round, in one transaction (a commit
        # per delivery is what limits the rate); the lease keeps the row from being claimed
        # again until then.
        try:
            outcome = self.sender(outgoing, int(time.time()))
        except Exception as exc:  # a sender that raises counts as a receiver that failed
            outcome = Outcome(None, f"{type(exc).__name__}: {exc}"[:500], 0)
        self._outcomes.put((outgoing, outcome, now()))
        with self._lock:
            self._in_flight[outgoing.app_id] -= 1

    def flush(self) -> int:
        """Record every outcome waiting since the last flush, in one transaction."""
        waiting: list[tuple[Outgoing, Outcome, datetime]] = []
        while True:
            try:
                waiting.append(self._outcomes.get_nowait())
            except queue.Empty:
                break
        if waiting:
            with Session(self.engine) as session:
                for outgoing, outcome, moment in waiting:
                    self._record(session, outgoing, outcome, moment)
                session.commit()
        return len(waiting)

    def _claim(self, limit: int, moment: datetime) -> list[Outgoing]:
        with Session(self.engine, expire_on_commit=False) as session:
            query = (
                select(WebhookDelivery, ExternalApp, OutboxEvent)
                .join(ExternalApp, col(ExternalApp.id) == col(WebhookDelivery.app_id))
                .join(OutboxEvent, col(OutboxEvent.id) == col(WebhookDelivery.event_id))
                .where(WebhookDelivery.status == "pending")
                .where(col(WebhookDelivery.next_attempt_at) <= moment)
                .where(
                    (col(WebhookDelivery.lease_until).is_(None))
                    | (col(WebhookDelivery.lease_until) <= moment)
                )
                .where(ExternalApp.webhook_state == "active")
                .where(col(ExternalApp.disabled_at).is_(None))
                .order_by(col(WebhookDelivery.seq))
                .limit(limit * 4)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=WebhookDelivery)  # type: ignore[arg-type]
            batch: list[Outgoing] = []
            for delivery, app, event in session.exec(query):
                assert app.id is not None
                # Fairness: a few in flight per app, so one app's backlog or slow receiver
                # leaves room for everyone else's.
                with self._lock:
                    if self._in_flight.get(app.id, 0) >= PER_APP_IN_FLIGHT or len(batch) >= limit:
                        continue
                    self._in_flight[app.id] = self._in_flight.get(app.id, 0) + 1
                delivery.lease_until = moment + LEASE
                session.add(delivery)
                data = public(event.payload)  # sealed fields never leave the platform
                body = json.dumps(
                    {
                        "type": event.type,
                        "timestamp": aware(event.created_at).isoformat(),
                        "data": {**data, "event_id": event.id, "seq": delivery.seq},
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode()
                batch.append(
                    Outgoing(
                        delivery_id=delivery.id,  # type: ignore[arg-type]
                        app_id=app.id,
                        url=app.manifest["webhook"]["url"],
                        msg_id=f"evt_{event.id}",
                        body=body,
                        secrets=tuple(self.apps.webhook_secrets(app, moment)),
                    )
                )
            session.commit()
        return batch

    def _record(
        self, session: Session, outgoing: Outgoing, outcome: Outcome, moment: datetime
    ) -> None:
        delivery = session.get(WebhookDelivery, outgoing.delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.last_status = outcome.status_code
        delivery.last_error = outcome.error
        session.add(
            WebhookAttempt(
                delivery_id=outgoing.delivery_id,
                at=moment,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        if outcome.ok:
            delivery.status = "done"
            delivery.delivered_at = moment
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "dead"
        else:
            wait = BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            delivery.next_attempt_at = moment + timedelta(seconds=wait)
        session.add(delivery)
        session.flush()
        if delivery.status == "dead":
            self._maybe_pause(session, outgoing.app_id)

    def _maybe_pause(self, session: Session, app_id: int) -> None:
        recent = list(
            session.exec(
                select(WebhookDelivery.status)
                .where(WebhookDelivery.app_id == app_id)
                .where(col(WebhookDelivery.status).in_(["done", "dead"]))
                .order_by(col(WebhookDelivery.id).desc())
                .limit(PAUSE_AFTER_DEAD)
            )
        )
        if len(recent) == PAUSE_AFTER_DEAD and all(s == "dead" for s in recent):
            app = session.get(ExternalApp, app_id)
            if app is not None and app.webhook_state == "active":
                app.webhook_state = "paused"
                app.webhook_paused_reason = f"最近 {PAUSE_AFTER_DEAD} 次推送均失败"
                session.add(app)
                log.warning("webhooks of app %s paused after persistent failure", app.slug)

    # -- administration --------------------------------------------------------------------

    def replay(self, session: Session, actor: Actor | None, app_id: int, delivery_id: int) -> None:
        """Send a delivery again from scratch (dead or done: the receiver asked for it)."""
        self.apps.get(session, actor, app_id)
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.app_id != app_id:
            raise NotFound("找不到该推送记录", field="delivery_id")
        if delivery.status == "pending":
            raise ValidationFailed("该推送尚在发送中，无需重发", field="delivery_id")
        delivery.status = "pending"
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        delivery.lease_until = None
        session.add(delivery)
        audit.record(
            session,
            "app.webhook_replayed",
            actor=actor,
            target_type="webhook_delivery",
            target_id=delivery_id,
            detail={"app_id": app_id, "event_id": delivery.event_id},
        )

    def set_paused(self, session: Session, actor: Actor | None, app_id: int, paused: bool) -> None:
        app = self.apps.get(session, actor, app_id)
        app.webhook_state = "paused" if paused else "active"
        app.webhook_paused_reason = "管理员暂停" if paused else None
        session.add(app)
        audit.record(
            session,
            "app.webhooks_paused" if paused else "app.webhooks_resumed",
            actor=actor,
            target_type="app",
            target_id=app_id,
        )

    def log(
        self,
        session: Session,
        actor: Actor | None,
        app_id: int,
        *,
        status: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The app's latest deliveries, newest first, each with its attempts."""
        self.apps.get(session, actor, app_id)
        query = select(WebhookDelivery, OutboxEvent.type).join(
            OutboxEvent, col(OutboxEvent.id) == col(WebhookDelivery.event_id)
        )
        query = query.where(WebhookDelivery.app_id == app_id)
        if status:
            query = query.where(WebhookDelivery.status == status)
        rows = list(session.exec(query.order_by(col(WebhookDelivery.id).desc()).limit(limit)))
        attempts: dict[int, list[dict[str, Any]]] = {}
        ids = [d.id for d, _ in rows]
        if ids:
            for attempt in session.exec(
                select(WebhookAttempt)
                .where(col(WebhookAttempt.delivery_id).in_(ids))
                .order_by(col(WebhookAttempt.id))
            ):
                attempts.setdefault(attempt.delivery_id, []).append(
                    {
                        "at": aware(attempt.at).isoformat(),
                        "status_code": attempt.status_code,
                        "error": attempt.error,
                        "duration_ms": attempt.duration_ms,
                    }
                )
        return [
            {
                "id": d.id,
                "event_id": d.event_id,
                "seq": d.seq,
                "type": event_type,
                "status": d.status,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "next_attempt_at": aware(d.next_attempt_at).isoformat(),
                "delivered_at": aware(d.delivered_at).isoformat() if d.delivered_at else None,
                "log": attempts.get(d.id, []),  # type: ignore[arg-type]
            }
            for d, event_type in rows
        ]

    # -- background ------------------------------------------------------------------------

    def start_background(self, interval: float = 1.0) -> None:
        """Deliver in a thread of its own until :meth:`stop_background`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            watch = OutageWatch(log, "webhooks")
            while not self._stop.is_set():
                try:
                    sent = self.flush() + self.deliver_due(wait=False)
                except Exception as exc:  # the database may be briefly away: wait, try again
                    self._stop.wait(watch.failed(exc))
                    continue
                watch.succeeded()
                if not sent:
                    self._stop.wait(interval)

        self._thread = threading.Thread(target=run, name="webhooks", daemon=True)
        self._thread.start()

    def stop_background(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT_SECONDS + 5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        try:
            self.flush()
        except Exception:  # recorded or not, the leases expire and the rows are tried again
            log.exception("webhook outcomes not recorded at shutdown")
