"""Forms and their versions: drafted, checked, published once, never changed after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shequyun_sdk import Conflict, NotFound, ValidationFailed
from shequyun_sdk.identity import Actor
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..identity import audit, scope
from ..identity.auth import unit_ref
from ..identity.models import OrgUnit
from .models import Form, FormVersion, utcnow

__all__ = ["PUBLISH", "FormService", "form_view", "version_view"]

PUBLISH = "collection.publish"


def _problems(schema: Any, ui: Any) -> list[dict[str, str]]:
    from .schema_check import check_schema
    from .ui_check import check_ui

    problems = [{"field": f"schema{p.path}", "message": p.message} for p in check_schema(schema)]
    if not problems:
        problems += [{"field": f"ui{p.path}", "message": p.message} for p in check_ui(ui, schema)]
    return problems


def form_view(form: Form, versions: list[FormVersion]) -> dict[str, Any]:
    return {
        "id": form.id,
        "title": form.title,
        "description": form.description,
        "created_at": form.created_at.isoformat(),
        "versions": [version_view(v, with_schema=False) for v in versions],
    }


def version_view(version: FormVersion, *, with_schema: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "number": version.number,
        "status": version.status,
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }
    if with_schema:
        view["schema"] = version.schema_
        view["ui"] = version.ui
        view["columns"] = version.columns
    return view


class FormService:
    """Creates, versions and publishes forms for publishers within their grant."""

    def get(self, session: Session, actor: Actor | None, form_id: int) -> Form:
        """The form, if ``actor`` may publish where it is owned; NotFound otherwise, so that a
        form out of reach is not known to exist."""
        form = session.get(Form, form_id)
        if form is None:
            raise NotFound("找不到该表单")
        owner = session.get(OrgUnit, form.owner_unit_id)
        assert owner is not None
        if not scope.can(actor, PUBLISH, unit_ref(owner)):
            raise NotFound("找不到该表单")
        return form

    def with_versions(
        self, session: Session, actor: Actor | None, form_id: int
    ) -> tuple[Form, list[FormVersion]]:
        """The form, if ``actor`` may publish where it is owned (else NotFound), and its
        versions, oldest first."""
        form = self.get(session, actor, form_id)
        return form, self.versions(session, form_id)

    def get_version(
        self, session: Session, actor: Actor | None, form_id: int, number: int
    ) -> tuple[Form, FormVersion]:
        """The form, if ``actor`` may publish where it is owned (else NotFound), and its version
        ``number`` (NotFound naming ``version`` when it has none such)."""
        form = self.get(session, actor, form_id)
        return form, self.version(session, form_id, number)

    def workbook(
        self, session: Session, actor: Actor | None, form_id: int, number: int
    ) -> tuple[Form, bytes]:
        """The form and its version ``number`` as the XLSX workbook the upload reads; a form the
        builder cannot hold (one using ``$ref``, say) is refused naming ``version``."""
        from .form_sheets_write import write_workbook
        from .questions import NotBuildable

        form, version = self.get_version(session, actor, form_id, number)
        try:
            data = write_workbook(form.title, form.description, version.schema_, version.ui)
        except NotBuildable as exc:
            raise ValidationFailed(f"该表单无法写成 Excel：{exc}", field="version") from None
        return form, data

    def versions(self, session: Session, form_id: int) -> list[FormVersion]:
        """The versions of a form the caller already holds (no scope check: see
        :meth:`with_versions`)."""
        return list(
            session.exec(
                select(FormVersion)
                .where(FormVersion.form_id == form_id)
                .order_by(col(FormVersion.number))
            )
        )

    def version(self, session: Session, form_id: int, number: int) -> FormVersion:
        """Version ``number`` of a form the caller already holds (no scope check: see
        :meth:`get_version`)."""
        found = session.exec(
            select(FormVersion).where(FormVersion.form_id == form_id, FormVersion.number == number)
        ).first()
        if found is None:
            raise NotFound("找不到该表单版本", field="version")
        return found

    def list(self, session: Session, actor: Actor | None) -> list[Form]:
        return list(
            session.exec(
                select(Form)
                .where(scope.scope_filter(actor, PUBLISH, Form.owner_unit_id))
                .order_by(col(Form.id).desc())
                .limit(500)
            )
        )

    def listing(
        self, session: Session, actor: Actor | None
    ) -> Sequence[tuple[Form, Sequence[FormVersion]]]:
        """The forms owned within the actor's grant, newest first, each with its versions."""
        return [(f, self.versions(session, f.id or 0)) for f in self.list(session, actor)]

    def create(self, session: Session, actor: Actor | None, body: Mapping[str, Any]) -> Form:
        if actor is None or actor.unit is None:
            raise ValidationFailed("请先选择以哪个身份发布", field="grant")
        title = body.get("title")
        errors: list[dict[str, str]] = []
        if not isinstance(title, str) or not title.strip() or len(title) > 120:
            errors.append({"field": "title", "message": "标题不能为空且不超过 120 个字"})
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 5000:
            errors.append({"field": "description", "message": "说明不能超过 5000 个字"})
        errors += _problems(body.get("schema"), body.get("ui", {}))
        _raise(errors)
        assert isinstance(title, str) and isinstance(description, str)
        form = Form(
            title=title.strip(),
            description=description,
            owner_unit_id=actor.unit.id,
            created_by=actor.user_id,
        )
        session.add(form)
        session.flush()
        assert form.id is not None
        session.add(
            FormVersion(form_id=form.id, number=1, schema_=body["schema"], ui=body.get("ui") or {})
        )
        audit.record(
            session,
            "collection.form_created",
            actor=actor,
            target_type="form",
            target_id=form.id,
            detail={"title": form.title},
        )
        return form

    def create_from_workbook(
        self, session: Session, actor: Actor | None, data: bytes, title: str = ""
    ) -> Form:
        """A form from an XLSX workbook (``form_sheets``), as its first draft version.

        Every problem of the workbook is in the ``ValidationFailed``'s details with its
        ``sheet``, ``row`` and ``column``; nothing is stored unless there is none. ``title``
        overrides the workbook's ``settings`` sheet.
        """
        from .form_sheets import read_workbook
        from .questions import to_form

        sheet = read_workbook(data)
        title = title.strip() or sheet.title
        if not sheet.problems and not title:
            raise ValidationFailed(
                "请填写表单标题（或在 settings 工作表的 form_title 列写明）", field="title"
            )
        if sheet.problems:
            first = sheet.problems[0]
            raise ValidationFailed(
                f"文件中有 {len(sheet.problems)} 处问题：第 {first.row} 行 {first.column}："
                f"{first.message}",
                field="file",
                details=[{"field": "file", **p.to_dict()} for p in sheet.problems],
            )
        schema, ui = to_form(sheet.questions)
        body = {"title": title, "description": sheet.description, "schema": schema, "ui": ui}
        return self.create(session, actor, body)

    def save_draft(
        self, session: Session, actor: Actor | None, form_id: int, body: Mapping[str, Any]
    ) -> FormVersion:
        """Create the next draft version, or replace the current draft's schema and UI."""
        form = self.get(session, actor, form_id)
        _raise(_problems(body.get("schema"), body.get("ui", {})))
        versions = self.versions(session, form_id)
        draft = next((v for v in versions if v.status == "draft"), None)
        if draft is None:
            draft = FormVersion(
                form_id=form_id,
                number=(versions[-1].number + 1) if versions else 1,
                schema_={},
                ui={},
            )
        draft.schema_ = dict(body["schema"])
        draft.ui = dict(body.get("ui") or {})
        session.add(draft)
        session.flush()
        audit.record(
            session,
            "collection.form_draft_saved",
            actor=actor,
            target_type="form",
            target_id=form.id,
            detail={"version": draft.number},
        )
        return draft

    def publish(
        self, session: Session, actor: Actor | None, form_id: int, number: int
    ) -> FormVersion:
        form = self.get(session, actor, form_id)
        version = self.version(session, form_id, number)
        if version.status == "published":
            raise Conflict("该版本已发布，不能再次发布或修改", field="version")
        # Re-check at publication: the checks may have become stricter since the draft.
        _raise(_problems(version.schema_, version.ui))
        previous = session.exec(
            select(FormVersion)
            .where(FormVersion.form_id == form_id, FormVersion.status == "published")
            .order_by(col(FormVersion.number).desc())
        ).first()
        version.columns = stable_columns(version, previous)
        version.status = "published"
        version.published_at = utcnow()
        session.add(version)
        audit.record(
            session,
            "collection.form_published",
            actor=actor,
            target_type="form",
            target_id=form.id,
            detail={"version": number},
        )
        return version

    def next_number(self, session: Session, form_id: int) -> int:
        current = session.exec(
            select(func.max(FormVersion.number)).where(FormVersion.form_id == form_id)
        ).one()
        return int(current or 0) + 1


def stable_columns(version: FormVersion, previous: FormVersion | None) -> dict[str, str]:
    """Each field's export column: kept from the previous version, following renames."""
    earlier = previous.columns if previous is not None else {}
    fields_ui = (version.ui or {}).get("fields", {})
    columns: dict[str, str] = {}
    for name in version.schema_.get("properties") or {}:
        renamed_from = (fields_ui.get(name) or {}).get("renamed_from")
        if renamed_from and renamed_from in earlier:
            columns[name] = earlier[renamed_from]
        else:
            columns[name] = earlier.get(name, name)
    taken: dict[str, str] = {}
    for name, column in columns.items():
        if column in taken:
            raise ValidationFailed(
                f"字段 {name} 与 {taken[column]} 对应同一导出列 {column}", field=f"ui.fields.{name}"
            )
        taken[column] = name
    return columns


def _raise(errors: list[dict[str, str]]) -> None:
    if errors:
        raise ValidationFailed(
            f"{errors[0]['field']}：{errors[0]['message']}"
            + (f"（共 {len(errors)} 处问题）" if len(errors) > 1 else ""),
            field=errors[0]["field"],
            details=errors,
        )
