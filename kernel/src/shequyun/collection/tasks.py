"""Tasks: a committee's share of a campaign, filled in, submitted and returned.

Cadres save drafts and submit; publishers and streets return submissions with a comment; every
step is in the task's history and leaves through the outbox as an event. Submissions are
idempotent by client key and validated by a compiled validator cached per form version.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock
from typing import Any

from shequyun_sdk import Conflict, Forbidden, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor, UnitRef
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from ..attachments.service import AttachmentService
from ..events import EventBus
from ..identity import audit, scope
from ..identity.auth import unit_ref, unit_ref_of_row
from ..identity.models import OrgUnit
from ..residents.service import READ as RESIDENTS_READ
from ..residents.service import ResidentFilters, ResidentService
from . import prepared
from .files import FileAnswer, FileFields, claim_for_task, claim_values
from .forms import FormService
from .models import Campaign, FormVersion, Task, TaskEvent, utcnow
from .task_shapes import (
    aware,
    check_data_shape,
    event_payload,
    refuse_unless_open,
    row_view,
    view,
)

__all__ = ["FILL", "RESULTS", "REVIEW", "Submitted", "TaskFlow", "aware"]

FILL = "collection.fill"

REVIEW = "collection.review"

RESULTS = "collection.results"

WRITEBACK_TARGETS = {"phone", "registration", "tags"}


@dataclass(frozen=True)
class Submitted:
    """A submission's outcome: the task as :meth:`TaskFlow.task_view` shows it, and whether
    the client key had already been used (nothing was written)."""

    view: dict[str, Any]
    replayed: bool


class TaskFlow:
    """The task half of :class:`~.campaigns.CampaignService`: filling, submitting, returning."""

    def __init__(
        self,
        forms: FormService,
        residents: ResidentService,
        events: EventBus,
        attachments: AttachmentService,
    ) -> None:
        self.forms = forms
        self.residents = residents
        self.events = events
        self.attachments = attachments
        self._validators: dict[int, Any] = {}
        self._files: dict[int, FileFields] = {}
        self._versions: dict[int, FormVersion] = {}
        self._lock = Lock()

    def validator(self, version: FormVersion) -> Any:
        """The compiled validator of a published version (compiled once per process)."""
        assert version.id is not None
        cached = self._validators.get(version.id)
        if cached is None:
            from .validator import compile_validator

            with self._lock:
                cached = self._validators.get(version.id)
                if cached is None:
                    cached = compile_validator(version.schema_, ui=version.ui)
                    self._validators[version.id] = cached
        return cached

    def file_fields(self, version: FormVersion) -> FileFields:
        """The attachment questions of a version (found once per process)."""
        assert version.id is not None
        found = self._files.get(version.id)
        if found is None:
            found = self._files.setdefault(version.id, FileFields(version.schema_, version.ui))
        return found

    def published_version(self, session: Session, version_id: int) -> FormVersion:
        """A published form version, read once per process: published versions never change,
        and decoding a 250-field schema on every submission is most of a submission's cost."""
        cached = self._versions.get(version_id)
        if cached is None:
            version = session.get(FormVersion, version_id)
            assert version is not None
            if version.status != "published":
                return version
            session.expunge(version)
            cached = self._versions.setdefault(version_id, version)
        return cached

    def task(self, session: Session, actor: Actor | None, task_id: int, permission: str) -> Task:
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("找不到该填报任务")
        unit = session.get(OrgUnit, task.unit_id)
        assert unit is not None
        check_task_scope(actor, unit, permission)
        return task

    def history(self, session: Session, task_id: int) -> list[dict[str, Any]]:
        return [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "actor": e.actor_username,
                "comment": e.comment,
            }
            for e in session.exec(
                select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
            )
        ]

    def roster(
        self, session: Session, actor: Actor | None, task: Task, campaign: Campaign
    ) -> list[dict[str, Any]]:
        """Prefilled rows for a roster task: the matching residents of the task's committee."""
        unit = session.get(OrgUnit, task.unit_id)
        assert unit is not None
        spec = campaign.roster_filter
        filters = ResidentFilters(
            tags=tuple(spec.get("tags", ())),
            age_min=spec.get("age_min"),
            age_max=spec.get("age_max"),
            registration=spec.get("registration"),
            compound=spec.get("compound"),
            building=spec.get("building"),
            unit_code=unit.code,
        )
        # A named list (a data-quality verification round) narrows the committee's residents.
        named = set(spec["resident_ids"]) if "resident_ids" in spec else None
        items: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.residents.search(
                session, actor, filters, after=after, limit=500, permission=RESIDENTS_READ
            )
            items += [i for i in page.items if named is None or i["id"] in named]
            if page.next_cursor is None:
                return items
            after = page.next_cursor

    def save_draft(
        self, session: Session, actor: Actor | None, task_id: int, data: Any, version: Any
    ) -> Task:
        task = self.task(session, actor, task_id, FILL)
        campaign = self._open_campaign(session, task)
        check_data_shape(data)
        if task.status == "submitted":
            raise Conflict("已提交的填报不能再保存草稿；如需修改请联系发布方退回", field="status")
        if version != task.version:
            raise Conflict(
                "该填报已被他人修改，请刷新后重试",
                field="version",
                code="stale_version",
                extra={"current": self.task_view(session, task, campaign)},
            )
        version = self.published_version(session, campaign.form_version_id)
        files = self._file_answers(version, campaign.mode, data, task.data)
        self._bump(session, task, actor, "draft_saved", None, data=data, status="draft")
        self._claim_files(session, actor, task, files)
        return task

    def submit(
        self, session: Session, actor: Actor | None, task_id: int, data: Any, client_key: Any
    ) -> Submitted:
        if not isinstance(client_key, str) or not 8 <= len(client_key) <= 80:
            raise ValidationFailed(
                "请提供 8-80 位的提交编号 client_key（重复提交时不变）", field="client_key"
            )
        # The task, its unit and campaign, and whether this key was already used: one query,
        # plain columns (see prepared.submission_row).
        row = prepared.submission_row(session, task_id, client_key)
        if row is None:
            raise NotFound("找不到该填报任务")
        check_task_scope(actor, unit_ref_of_row(row), FILL)
        if row.replayed_version is not None:
            return Submitted(row_view(row), True)
        refuse_unless_open(row.campaign_status, row.withdrawn, row.starts_at)
        check_data_shape(data)
        if row.status == "submitted":
            raise Conflict("该任务已提交；如需修改请联系发布方退回", field="status")
        version = self.published_version(session, row.form_version_id)
        mode = row.campaign_mode
        campaign = self._roster_campaign(session, row)
        errors = self._validate(session, actor, row.task_id, mode, campaign, version, data)
        if errors:
            raise ValidationFailed(
                f"{errors[0]['field']}：{errors[0]['message']}"
                + (f"（共 {len(errors)} 处问题）" if len(errors) > 1 else ""),
                field=errors[0]["field"],
                details=errors,
            )
        # Everything that needs no lock is done before the first write: on SQLite, writers
        # take turns from their first write to their commit.
        stored = self._without_hidden(version, mode, data)
        files = self._file_answers(version, mode, stored, row.data)
        resubmission = row.status == "returned"
        now = utcnow()
        on_time = now <= aware(row.deadline)
        written_values = {
            "data": stored,
            "form_version_id": version.id,
            "status": "submitted",
            "submitted_at": now,
            "on_time": on_time,
            "version": row.version + 1,
            "updated_at": now,
        }
        event_type = (
            "collection.submission.changed" if resubmission else "collection.submission.created"
        )
        event = event_payload(
            row.campaign_id, task_id, row.unit_code, row.unit_id, "submitted", row.version + 1
        )
        # The key goes in first: a concurrent duplicate waits on it and then replays. On
        # PostgreSQL the files are claimed and the event written in the same statement.
        try:
            written = prepared.write_submission(
                session,
                task_id,
                row.version,
                client_key,
                written_values,
                "resubmitted" if resubmission else "submitted",
                actor.user_id if actor else None,
                actor.username if actor else None,
                files=None
                if files is None
                else claim_values(actor, task_id, row.unit_id, files[0]),
                event=self.events.outbox_values(event_type, event),
            )
        except IntegrityError:
            session.rollback()
            again = prepared.submission_row(session, task_id, client_key)
            assert again is not None
            check_task_scope(actor, unit_ref_of_row(again), FILL)
            return Submitted(row_view(again), True)
        if not written.task:
            session.rollback()
            raise Conflict(
                "该填报刚被他人修改，请刷新后重试", field="version", code="stale_version"
            )
        row = row._replace(
            data=stored,
            status="submitted",
            submitted_at=now,
            on_time=on_time,
            version=row.version + 1,
        )
        if files is not None:
            claim_for_task(
                self.attachments, session, actor, task_id, row.unit_id, *files, taken=written.files
            )
        if campaign is not None and campaign.writeback:
            self._write_back(session, actor, campaign, data)
        if not written.event:
            self.events.publish(session, event_type, event)
        return Submitted(row_view(row), False)

    def return_task(
        self, session: Session, actor: Actor | None, task_id: int, comment: Any
    ) -> Task:
        if not isinstance(comment, str) or not 2 <= len(comment.strip()) <= 1000:
            raise ValidationFailed("请写明退回原因（2-1000 个字）", field="comment")
        task = self.task(session, actor, task_id, REVIEW)
        campaign = self._open_campaign(session, task)
        if task.status != "submitted":
            raise Conflict("只能退回已提交的填报", field="status")
        self._bump(session, task, actor, "returned", comment.strip(), status="returned")
        audit.record(
            session,
            "collection.returned",
            actor=actor,
            target_type="task",
            target_id=task.id,
            unit_id=task.unit_id,
            detail={"campaign_id": campaign.id, "comment": comment.strip()},
        )
        self.events.publish(
            session,
            "collection.submission.returned",
            {
                **self._event(task, campaign, session.get(OrgUnit, task.unit_id)),
                "comment": comment.strip(),
            },
        )
        return task

    def task_view(self, session: Session, task: Task, campaign: Campaign) -> dict[str, Any]:
        unit = session.get(OrgUnit, task.unit_id)
        assert unit is not None and task.id is not None and campaign.id is not None
        return view(
            task_id=task.id,
            campaign_id=campaign.id,
            campaign_title=campaign.title,
            deadline=campaign.deadline,
            mode=campaign.mode,
            unit_code=unit.code,
            unit_name=unit.name,
            status=task.status,
            data=task.data,
            version=task.version,
            submitted_at=task.submitted_at,
            on_time=task.on_time,
        )

    def _open_campaign(self, session: Session, task: Task) -> Campaign:
        campaign = session.get(Campaign, task.campaign_id)
        assert campaign is not None
        refuse_unless_open(campaign.status, task.withdrawn, campaign.starts_at)
        return campaign

    def _bump(
        self,
        session: Session,
        task: Task,
        actor: Actor | None,
        action: str,
        comment: str | None,
        **changes: Any,
    ) -> None:
        """Write ``changes`` to the task and advance its version in one conditional UPDATE: of
        two concurrent changes (two cadres, two client keys) exactly one goes through, the
        other gets 409. The task object shows the written values afterwards (without being
        marked changed: nothing is left for the session to flush)."""
        assert task.id is not None
        old = task.version
        now = utcnow()
        changes.update(version=old + 1, updated_at=now)
        if not prepared.bump_task(session, task.id, old, changes):
            session.rollback()
            raise Conflict(
                "该填报刚被他人修改，请刷新后重试", field="version", code="stale_version"
            )
        for key, value in changes.items():  # written: nothing left for the next flush
            set_committed_value(task, key, value)
        prepared.add_task_event(
            session,
            task.id,
            action,
            now,
            actor.user_id if actor else None,
            actor.username if actor else None,
            comment,
        )

    def _file_answers(
        self, version: FormVersion, mode: str, data: Any, previous: Any
    ) -> tuple[list[FileAnswer], list[FileAnswer]] | None:
        """The files ``data`` refers to and those ``previous`` (the task's answers before this
        change) referred to; None when the form has no file questions."""
        files = self.file_fields(version)
        if not files:
            return None
        roster = mode == "roster"
        return files.answers(data, roster=roster), files.answers(previous, roster=roster)

    def _claim_files(
        self,
        session: Session,
        actor: Actor | None,
        task: Task,
        files: tuple[list[FileAnswer], list[FileAnswer]] | None,
    ) -> None:
        """Claim the files the task's answers refer to and release those only its previous
        answers referred to (after ``_bump``: the task's row lock orders concurrent saves).
        Raises ValidationFailed; nothing may be committed then."""
        if files is not None:
            assert task.id is not None
            claim_for_task(self.attachments, session, actor, task.id, task.unit_id, *files)

    def _roster_campaign(self, session: Session, row: prepared.SubmissionRow) -> Campaign | None:
        """A roster campaign's own record (its filter and write-back); None in unit mode."""
        if row.campaign_mode == "unit":
            return None
        return session.get(Campaign, row.campaign_id)

    def _validate(
        self,
        session: Session,
        actor: Actor | None,
        task_id: int,
        mode: str,
        campaign: Campaign | None,
        version: FormVersion,
        data: dict[str, Any],
    ) -> list[dict[str, str]]:
        """The problems of ``data``; ``campaign`` is needed in roster mode only."""
        validator = self.validator(version)
        if mode == "unit":
            return [{"field": e.path, "message": e.message} for e in validator.errors(data)]
        rows = data.get("rows")
        if set(data) != {"rows"} or not isinstance(rows, list):
            return [{"field": "rows", "message": "按名单填报时应提交 rows 列表"}]
        assert campaign is not None
        task = session.get(Task, task_id)
        assert task is not None
        allowed = {r["id"] for r in self.roster(session, actor, task, campaign)}
        errors: list[dict[str, str]] = []
        seen: set[Any] = set()
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append({"field": f"rows[{index}]", "message": "应为对象"})
                continue
            resident_id = row.get("resident_id")
            if resident_id not in allowed:
                errors.append({"field": f"rows[{index}].resident_id", "message": "不在本次名单中"})
            elif resident_id in seen:
                errors.append({"field": f"rows[{index}].resident_id", "message": "重复"})
            seen.add(resident_id)
            answers = {k: v for k, v in row.items() if k != "resident_id"}
            errors += [
                {
                    "field": f"rows[{index}].{e.path}" if e.path else f"rows[{index}]",
                    "message": e.message,
                }
                for e in validator.errors(answers)
            ]
        return errors

    def _without_hidden(
        self, version: FormVersion, mode: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Answers to fields the form hid (``visible_if``) are not kept."""
        validator = self.validator(version)
        if mode == "unit":
            return dict(validator.strip_hidden(data))
        return {
            "rows": [
                {
                    "resident_id": row.get("resident_id"),
                    **validator.strip_hidden({k: v for k, v in row.items() if k != "resident_id"}),
                }
                for row in data["rows"]
            ]
        }

    def _write_back(
        self, session: Session, actor: Actor | None, campaign: Campaign, data: dict[str, Any]
    ) -> None:
        for row in data["rows"]:
            changes = {
                target: row[field]
                for field, target in campaign.writeback.items()
                if field in row and row[field] not in (None, "")
            }
            if not changes:
                continue
            resident = self.residents.get(session, actor, row["resident_id"])
            self.residents.update(
                session,
                actor,
                row["resident_id"],
                changes,
                version=resident.version,
                source="collection",
            )

    def _event(self, task: Task, campaign: Campaign, unit: OrgUnit | None) -> dict[str, Any]:
        """The payload of a task's event (``submit`` builds the same from its row)."""
        assert unit is not None and unit.id == task.unit_id
        assert task.id is not None and campaign.id is not None
        return event_payload(
            campaign.id, task.id, unit.code, task.unit_id, task.status, task.version
        )


def check_task_scope(actor: Actor | None, unit: OrgUnit | UnitRef, permission: str) -> None:
    """403 for a task the actor sees but may not act on this way, 404 for one out of sight."""
    ref = unit if isinstance(unit, UnitRef) else unit_ref(unit)
    if not scope.can(actor, permission, ref):
        if any(scope.can(actor, p, ref) for p in (FILL, REVIEW, RESULTS)):
            raise Forbidden("您没有权限对该填报任务执行此操作")
        raise NotFound("找不到该填报任务")


def raise_invalid(errors: list[dict[str, str]]) -> None:
    if errors:
        raise ValidationFailed(
            f"{errors[0]['field']}：{errors[0]['message']}"
            + (f"（共 {len(errors)} 处问题）" if len(errors) > 1 else ""),
            field=errors[0]["field"],
            details=errors,
        )
