"""The kernel's implementation of :class:`shequyun_sdk.Platform`: what a plugin may ask of the
running platform (sessions, events, rendering, scope checks, residents, collection reads).

:class:`~.kernel.Kernel` builds one per kernel as ``kernel.platform``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shequyun_sdk import NotFound
from shequyun_sdk.attachments import AttachmentRef
from shequyun_sdk.attempts import AttemptLimit, AttemptVerdict
from shequyun_sdk.identity import Actor, UnitRef
from shequyun_sdk.picking import Pick
from shequyun_sdk.population import Population
from shequyun_sdk.residents import Building, ResidentRef
from shequyun_sdk.types import PluginContext, Visitor
from shequyun_sdk.workdays import WorkCalendar
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response

from . import throttles
from .attachments.responses import file_response
from .attachments.service import to_ref
from .calendar import service as calendar_service
from .collection import for_plugins as collection_reads
from .db import session_scope
from .identity import actors, audit, scope, tree, user_lists
from .identity.auth import unit_ref
from .identity.models import OrgUnit
from .residents import for_plugins, picking, population
from .residents.service import ResidentFilters

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["KernelPlatform"]


class KernelPlatform:
    """The kernel's implementation of :class:`shequyun_sdk.Platform`."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._renderer: Any = None
        self._root: UnitRef | None = None

    @property
    def kernel(self) -> Kernel:
        """The kernel itself, for the kernel's own default plugins (never for other plugins)."""
        return self._kernel

    def bind_renderer(self, renderer: Any) -> None:
        """Attach the web app's renderer (the CLI runs kernels without one)."""
        self._renderer = renderer

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> Response:
        if self._renderer is None:
            raise RuntimeError("this kernel is not serving pages")
        response: Response = self._renderer.render(
            request, template, context, status_code=status_code
        )
        return response

    def translator(
        self, request: Request, plugin: PluginContext | None = None
    ) -> Callable[..., str]:
        if self._renderer is None:
            raise RuntimeError("this kernel is not serving pages")
        context = plugin or request.scope.get("shequyun.plugin")
        translate: Callable[..., str] = self._renderer.translator(
            request, context.name if context is not None else None
        )
        return translate

    def visitor(self, request: Request) -> Visitor | None:
        if self._renderer is None or request.scope.get("shequyun.actor") is not None:
            return None
        found: Visitor | None = self._renderer.visitor(request)
        return found

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self._kernel.engine) as session:
            yield session

    def publish(self, session: Session, event_type: str, payload: Mapping[str, Any]) -> None:
        self._kernel.events.publish(session, event_type, payload)

    def plugin(self, name: str) -> PluginContext | None:
        record = self._kernel.host.records.get(name)
        return record.context if record is not None and record.active else None

    # -- plugin actors and the unit tree (SDK 1.0, issue 12) ---------------------------------

    def plugin_actor(self, plugin: PluginContext | str, *, unit: UnitRef | None = None) -> Actor:
        name = plugin if isinstance(plugin, str) else plugin.name
        record = self._kernel.host.records.get(name)
        if record is None or not record.active:
            raise LookupError(f"plugin {name!r} is not active")
        if unit is None:
            unit = self._city()
        permissions = self._kernel.permissions.plugin_actor_permissions(name)
        return actors.plugin_actor(name, record.title, unit, permissions)

    def _city(self) -> UnitRef | None:
        # The root never moves; remember it once it exists (a fresh database has none yet).
        if self._root is None:
            with Session(self._kernel.engine) as session:
                row = session.exec(
                    select(OrgUnit).where(OrgUnit.parent_id == None)  # noqa: E711
                ).first()
                self._root = unit_ref(row) if row is not None else None
        return self._root

    def unit_by_id(self, session: Session, unit_id: int) -> UnitRef | None:
        return tree.by_id(session, unit_id)

    def units(self, session: Session, codes: Iterable[str]) -> dict[str, UnitRef]:
        return tree.by_codes(session, codes)

    def root_unit(self, session: Session) -> UnitRef | None:
        return tree.root(session)

    def unit_children(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        return tree.children(session, unit, include_closed=include_closed)

    def unit_committees(
        self, session: Session, unit: UnitRef, *, include_closed: bool = False
    ) -> list[UnitRef]:
        return tree.committees(session, unit, include_closed=include_closed)

    def unit_ancestors(self, session: Session, unit: UnitRef) -> list[UnitRef]:
        return tree.ancestors(session, unit)

    # -- collection (SDK 1.0): what a subscriber reads of the events it gets -----------------

    def get_campaign(
        self, session: Session, actor: Actor | None, campaign_id: int
    ) -> dict[str, Any]:
        return collection_reads.campaign(
            self._kernel.collection.campaigns, session, actor, campaign_id
        )

    def get_task(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        return collection_reads.task(session, actor, task_id)

    def get_submission(self, session: Session, actor: Actor | None, task_id: int) -> dict[str, Any]:
        return collection_reads.submission(session, actor, task_id)

    # -- identity -------------------------------------------------------------------------

    def can(self, actor: Actor | None, permission: str, unit: UnitRef) -> bool:
        return scope.can(actor, permission, unit)

    def scope_filter(self, actor: Actor | None, permission: str, unit_column: Any) -> Any:
        return scope.scope_filter(actor, permission, unit_column)

    def plugin_enabled_at(self, name: str, unit: UnitRef) -> bool:
        return self._kernel.enablement.enabled_at(name, unit)

    def unit(self, session: Session, code: str) -> UnitRef | None:
        row = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
        return unit_ref(row) if row is not None else None

    def audit(
        self,
        session: Session,
        action: str,
        *,
        actor: Actor | None,
        target_type: str | None = None,
        target_id: str | int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        audit.record(
            session,
            action,
            actor=actor,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )

    # -- residents ------------------------------------------------------------------------

    def search_residents(
        self,
        session: Session,
        actor: Actor | None,
        *,
        after: str | None = None,
        limit: int = 50,
        permission: str = "residents.read",
        **filters: Any,
    ) -> tuple[list[dict[str, Any]], str | None]:
        page = self._kernel.residents.search(
            session,
            actor,
            ResidentFilters(**filters),
            after=after,
            limit=limit,
            permission=permission,
        )
        return page.items, page.next_cursor

    def get_resident(
        self, session: Session, actor: Actor | None, resident_id: int
    ) -> dict[str, Any]:
        service = self._kernel.residents
        view: dict[str, Any] = service.view(session, service.get(session, actor, resident_id))
        return view

    def update_resident(
        self,
        session: Session,
        actor: Actor | None,
        resident_id: int,
        changes: Mapping[str, Any],
        *,
        version: int,
        source: str = "plugin",
    ) -> dict[str, Any]:
        service = self._kernel.residents
        resident = service.update(
            session,
            actor,
            resident_id,
            changes,
            version=version,
            # A plugin's change says so (``plugin:<name>`` when the name fits the column),
            # whatever else it claims: it did not come through the portal or the API.
            source=source if source.startswith("plugin:") and len(source) <= 20 else "plugin",
        )
        session.flush()
        view: dict[str, Any] = service.view(session, resident)
        return view

    def audit_denial(self, request: Request, actor: Actor | None, permission: str) -> None:
        audit.record_now(
            self._kernel.engine,
            "access.denied",
            actor=actor,
            outcome="denied",
            detail={"permission": permission, "method": request.method, "path": request.url.path},
            client_ip=request.client.host if request.client else None,
        )

    # -- interaction needs (issue 7) --

    def user_names(self, session: Session, user_ids: Iterable[int]) -> dict[int, str]:
        return user_lists.display_names(session, user_ids)

    def verify_resident(
        self, session: Session, *, name: str, id_number: str, phone: str
    ) -> ResidentRef | None:
        return for_plugins.verify_resident(
            session, self._kernel.residents.cipher, name=name, id_number=id_number, phone=phone
        )

    def resident_refs(
        self, session: Session, resident_ids: Iterable[int]
    ) -> dict[int, ResidentRef]:
        return for_plugins.resident_refs(session, resident_ids)

    def resident_buildings(self, session: Session, unit_id: int) -> list[Building]:
        return for_plugins.resident_buildings(session, unit_id)

    def count_electorate(
        self,
        session: Session,
        unit_id: int,
        *,
        per: str = "resident",
        buildings: Sequence[tuple[str, str]] = (),
        household_numbers: Sequence[str] = (),
        adults_only: bool = True,
    ) -> int:
        return for_plugins.count_electorate(
            session,
            unit_id,
            per=per,
            buildings=buildings,
            household_numbers=household_numbers,
            adults_only=adults_only,
        )

    # -- attachments ----------------------------------------------------------------------

    def store_attachment(
        self,
        session: Session,
        *,
        data: bytes,
        filename: str,
        owner: str,
        owner_ref: str | None = None,
        unit: UnitRef | None = None,
        actor: Actor | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "file",
    ) -> AttachmentRef:
        row = self._kernel.attachments.store(
            session,
            data=data,
            filename=filename,
            actor=actor,
            owner=owner,
            owner_ref=owner_ref,
            unit_id=unit.id if unit is not None else None,
            accept=accept,
            public=public,
            read_permissions=read_permissions,
            field=field,
        )
        return to_ref(row)

    def get_attachment(self, session: Session, attachment_id: str) -> AttachmentRef | None:
        row = self._kernel.attachments.get(session, attachment_id)
        return to_ref(row) if row is not None else None

    def claim_attachments(
        self,
        session: Session,
        attachment_ids: Iterable[str],
        *,
        actor: Actor | None,
        owner: str,
        owner_ref: str,
        unit: UnitRef | None = None,
        accept: Collection[str] = ("image", "document"),
        public: bool = False,
        read_permissions: Sequence[str] = (),
        field: str = "attachments",
    ) -> list[AttachmentRef]:
        rows = self._kernel.attachments.claim(
            session,
            attachment_ids,
            actor=actor,
            owner=owner,
            owner_ref=owner_ref,
            unit_id=unit.id if unit is not None else None,
            accept=accept,
            public=public,
            read_permissions=read_permissions,
            field=field,
        )
        return [to_ref(row) for row in rows]

    def attachment_response(
        self, session: Session, attachment: AttachmentRef, *, download: bool = False
    ) -> Response:
        row = self._kernel.attachments.get(session, attachment.id)
        if row is None or not self._kernel.attachments.blobs.exists(row.sha256):
            raise NotFound("附件不存在", field="attachment_id")
        return file_response(self._kernel.attachments, row, download=download)

    # -- governance (issue 15): the working-day clock, picking in scope --------------------

    def work_calendar(self, session: Session) -> WorkCalendar:
        return calendar_service.load(session)

    def pick(
        self,
        session: Session,
        actor: Actor | None,
        kind: str,
        *,
        q: str = "",
        unit_code: str | None = None,
        limit: int = 20,
        permission: str = "residents.read",
    ) -> list[Pick]:
        return picking.pick(
            session, actor, kind, q=q, unit_code=unit_code, limit=limit, permission=permission
        )

    def resolve_picks(
        self,
        session: Session,
        actor: Actor | None,
        keys: Iterable[str],
        *,
        permission: str = "residents.read",
    ) -> dict[str, Pick]:
        return picking.resolve_picks(session, actor, keys, permission=permission)

    def subtree_filter(self, unit: UnitRef, unit_column: Any) -> Any:
        return scope.subtree_filter(unit, unit_column)

    def households_by_unit(
        self,
        session: Session,
        actor: Actor | None,
        *,
        unit_code: str | None = None,
        permission: str = "residents.read",
    ) -> dict[int, int]:
        return picking.households_by_unit(
            session, actor, unit_code=unit_code, permission=permission
        )

    # -- set-based resident queries (advisors, issue 16) ------------------------------------

    def resident_population(
        self,
        actor: Actor | None,
        *,
        permission: str = "residents.read",
        within: UnitRef | None = None,
    ) -> Population:
        return population.resident_population(actor, permission, within)

    def resident_views(
        self,
        session: Session,
        actor: Actor | None,
        resident_ids: Iterable[int],
        *,
        permission: str = "residents.read",
    ) -> dict[int, dict[str, Any]]:
        return population.resident_views(
            session, self._kernel.residents, actor, resident_ids, permission
        )

    # -- security (issue 14): attempt limits, sealed values -------------------------------

    def count_attempt(self, limit: AttemptLimit, key: str) -> AttemptVerdict:
        return throttles.hit(self._kernel.engine, limit, key)

    def forgive_attempt(self, limit: AttemptLimit, key: str) -> None:
        throttles.forgive(self._kernel.engine, limit, key)

    def reset_attempts(self, limit: AttemptLimit, key: str) -> None:
        throttles.reset(self._kernel.engine, limit, key)

    def seal(self, value: str) -> str:
        return self._kernel.residents.cipher.encrypt(value)

    def unseal(self, sealed: str) -> str:
        return self._kernel.residents.cipher.decrypt(sealed)

    def lookup_hash(self, value: str) -> str:
        return self._kernel.residents.cipher.lookup_hash(value)
