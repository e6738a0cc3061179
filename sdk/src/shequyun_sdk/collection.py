"""Platform calls for one-click collection (线上一键采集): read what an event points at.

A subscriber of ``collection.submission.created`` learns *that* a committee submitted (the
event names the task, campaign and unit); these calls read *what*, in the scope of the actor
passed, with the same permissions as the HTTP API. A plugin's own actor (handed to
subscribers as ``actor``) holds kernel permissions only when its manifest lists them in
``actor_permissions``: ``collection.results`` (or ``collection.review``) to read answers::

    MANIFEST = {..., "actor_permissions": ["collection.results"]}

    def on_submission(event, actor):
        with platform.session() as session:
            answers = platform.get_submission(session, actor, event.payload["task_id"])["answers"]

These methods are part of :class:`~shequyun_sdk.platform.Platform`.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from .identity import Actor

__all__ = ["CollectionCalls"]


class CollectionCalls(Protocol):
    """Reading campaigns, tasks and submissions (a part of the Platform)."""

    def get_campaign(
        self, session: Session, actor: Actor | None, campaign_id: int
    ) -> dict[str, Any]:
        """The campaign ``campaign_id``: ``id``, ``title``, ``instructions``, ``form`` (``id``,
        ``title``, ``version``), ``mode``, ``status``, ``starts_at``, ``deadline`` and
        ``publisher_unit`` (``code``, ``id``, ``name``, ``level``).

        Visible to the actor when they may publish where it was published, or have a task of
        it in scope with ``collection.results``, ``review`` or ``fill``; otherwise
        :class:`~shequyun_sdk.errors.NotFound`.
        """
        ...

    def get_task(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        """One committee's task, without its answers: ``id``, ``campaign_id``, ``campaign``
        (its title), ``unit`` (``code``, ``id``, ``name``, ``level``), ``status``
        (``not_started``, ``draft``, ``submitted``, ``returned``), ``version``, ``deadline``,
        ``submitted_at``, ``on_time``.

        The actor needs ``collection.results``, ``review`` or ``fill`` on the task's unit:
        :class:`~shequyun_sdk.errors.NotFound` when the task is out of their sight.
        """
        ...

    def get_submission(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        """The answers a committee submitted for task ``task_id``: ``answers`` (each field's
        name to its value, as the form's JSON Schema defines them; files are attachment ids),
        ``form`` (``id``, ``version`` answered), ``task_id``, ``campaign_id``, ``unit``,
        ``status`` (``submitted`` or ``returned``), ``version``, ``submitted_at``, ``on_time``.

        Same scope as :meth:`get_task`; :class:`~shequyun_sdk.errors.NotFound` (field
        ``task_id``) while the task has no submission (not started, or only a draft).
        """
        ...
