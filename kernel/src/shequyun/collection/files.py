"""Files in answers: where a form's attachment questions are, and claiming what answers refer to.

An answer refers to uploaded files by id (``att_…``: ``POST /api/v1/attachments``, or the
portal's file inputs). Saving a draft or submitting claims every file the answer refers to for
its task, in the same transaction: owner ``collection``, ``task:<id>``, on the task's unit,
readable with ``collection.fill``, ``.review`` or ``.results`` there. So the committee, and its
street, district and city roles of the collection line, read the files; a neighbouring
committee does not. A file the cadre did not upload (or that another task holds) is refused
with the answer's place (``photos[1]``, ``members[0].certificate``, ``rows[3].photo``), and a
photo question (``"widget": "photo"``) takes images only. Files an answer stops referring to
are released: their uploader's alone again, and pruned after a week like any unclaimed upload.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shequyun_sdk import ValidationFailed
from shequyun_sdk.attachments import ATTACHMENT_KINDS
from shequyun_sdk.identity import Actor
from sqlmodel import Session, col, select

from ..attachments.models import Attachment
from ..attachments.sniff import kind_of
from .fields import field_index

if TYPE_CHECKING:
    from ..attachments.service import AttachmentService
    from .models import Task

__all__ = [
    "ANY_FILE",
    "IMAGES",
    "MAX_FILES",
    "OWNER",
    "PHOTO_WIDGET",
    "READ_PERMISSIONS",
    "FileAnswer",
    "FileFields",
    "check_file_count",
    "claim_for_task",
    "claim_values",
    "task_files",
]

OWNER = "collection"
READ_PERMISSIONS = ("collection.fill", "collection.review", "collection.results")
PHOTO_WIDGET = "photo"
IMAGES = ("image",)
ANY_FILE = tuple(ATTACHMENT_KINDS)
#: The most files one answer (a whole roster included) may refer to.
MAX_FILES = 1000

NOT_YOURS = "附件不存在，或不是您上传的，请重新上传"
PHOTOS_ONLY = "此题只能上传照片（JPG、PNG、GIF、WEBP、HEIC 图片），不能上传文档"
_INDEX = re.compile(r"\[\d+\]")
_FILE_KINDS = frozenset({"attachment", "attachments"})
_CONTAINERS = frozenset({"table", "group", "address"})


@dataclass(frozen=True)
class FileAnswer:
    """One file an answer refers to: where (``photos[1]``), which, and whether a photo."""

    path: str
    id: str
    photo: bool


class FileFields:
    """The attachment questions of one form version, by dotted field name (``members.cert``)."""

    def __init__(self, schema: Mapping[str, Any], ui: Mapping[str, Any] | None) -> None:
        index = field_index(schema)
        specs = (ui or {}).get("fields")
        specs = specs if isinstance(specs, Mapping) else {}
        self.kinds = {path: i.kind for path, i in index.items() if i.kind in _FILE_KINDS}
        self.photos = frozenset(
            path
            for path in self.kinds
            if isinstance(specs.get(path), Mapping) and specs[path].get("widget") == PHOTO_WIDGET
        )
        self.containers = frozenset(p for p, i in index.items() if i.kind in _CONTAINERS)
        # Where to look: under each container (and the top, ""), the keys that are file
        # questions or hold one. A 250-question form with a few photos walks a few keys.
        looked: dict[str, dict[str, None]] = {}
        for path in self.kinds:  # in the form's order
            parts = path.split(".")
            for depth in range(len(parts)):
                looked.setdefault(".".join(parts[:depth]), {})[parts[depth]] = None
        self.looked = {parent: tuple(keys) for parent, keys in looked.items()}

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def field_of(self, path: str, *, roster: bool = False) -> str | None:
        """The question an input belongs to (``rows[2].members[0].cert`` → ``members.cert``)."""
        dotted = _INDEX.sub("", path)
        if roster:
            dotted = dotted.removeprefix("rows.")
        return dotted if dotted in self.kinds else None

    def accept(self, field: str) -> tuple[str, ...]:
        """The kinds of file a question takes."""
        return IMAGES if field in self.photos else ANY_FILE

    def answers(self, data: object, *, roster: bool = False) -> list[FileAnswer]:
        """Every file ``data`` refers to, in the form's order (any shape of data: drafts are not
        validated, so what is not where the form puts files is not looked at)."""
        found: list[FileAnswer] = []
        if not self or not isinstance(data, dict):
            return found
        if roster:
            rows = data.get("rows")
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                self._walk(row, "", f"rows[{index}].", found)
        else:
            self._walk(data, "", "", found)
        return found

    def _walk(self, value: object, parent: str, base: str, found: list[FileAnswer]) -> None:
        if not isinstance(value, dict):
            return
        for key in self.looked.get(parent, ()):
            if key not in value:
                continue
            item = value[key]
            field = f"{parent}.{key}" if parent else key
            path = f"{base}{key}"
            kind = self.kinds.get(field)
            if kind == "attachment":
                if isinstance(item, str) and item:
                    found.append(FileAnswer(path, item, field in self.photos))
            elif kind == "attachments":
                for index, each in enumerate(item if isinstance(item, list) else []):
                    if isinstance(each, str) and each:
                        found.append(FileAnswer(f"{path}[{index}]", each, field in self.photos))
            elif field in self.containers:
                if isinstance(item, dict):
                    self._walk(item, field, f"{path}.", found)
                elif isinstance(item, list):
                    for index, row in enumerate(item):
                        self._walk(row, field, f"{path}[{index}].", found)


def claim_for_task(
    service: AttachmentService,
    session: Session,
    actor: Actor | None,
    task_id: int,
    unit_id: int,
    answers: list[FileAnswer],
    previous: list[FileAnswer],
    *,
    taken: Mapping[str, str] | None = None,
) -> None:
    """Claim the files of ``answers`` for the task ``task_id`` (of the unit ``unit_id``) and
    release those of ``previous`` (the task's answers before) it no longer refers to.

    ``taken``: the files a statement of the caller's already claimed with
    :func:`claim_values` (their content type by id); then only the checks and the release run.

    A task holds exactly the files its saved answers refer to (every save claims and releases
    in the transaction that writes the answers), so when no previous file is dropped there is
    nothing to release and no statement is run for it.

    Raises :class:`ValidationFailed` naming each answer at fault; the caller's transaction
    must then not be committed (nothing the claim changed is kept).
    """
    owner_ref = f"task:{task_id}"
    check_file_count(answers)
    ids = sorted({answer.id for answer in answers})  # one order of row locks for everyone
    if taken is None:
        taken = service.take(
            session,
            ids,
            actor=actor,
            owner=OWNER,
            owner_ref=owner_ref,
            unit_id=unit_id,
            read_permissions=READ_PERMISSIONS,
        )
    else:
        service.claimed(session, taken)
    _raise([{"field": a.path, "message": NOT_YOURS} for a in answers if a.id not in taken])
    _raise(
        [
            {"field": a.path, "message": PHOTOS_ONLY}
            for a in answers
            if a.photo and kind_of(taken[a.id]) not in IMAGES
        ]
    )
    if {answer.id for answer in previous}.difference(ids):
        service.release(session, OWNER, owner_ref, keep=ids)


def claim_values(
    actor: Actor | None, task_id: int, unit_id: int, answers: list[FileAnswer]
) -> dict[str, Any]:
    """The parameters of the attachments' claim (``CLAIM_DIRECT``) that :func:`claim_for_task`
    runs, for a statement that claims the files of ``answers`` as part of writing the task
    (pass what it claimed to :func:`claim_for_task` as ``taken``)."""
    from ..attachments.service import AttachmentService

    check_file_count(answers)
    return AttachmentService.claim_values(
        sorted({answer.id for answer in answers}),
        actor=actor,
        owner=OWNER,
        owner_ref=f"task:{task_id}",
        unit_id=unit_id,
        read_permissions=READ_PERMISSIONS,
    )


def check_file_count(answers: list[FileAnswer]) -> None:
    """422 when an answer refers to more than :data:`MAX_FILES` files."""
    if len(answers) > MAX_FILES:
        raise ValidationFailed(f"附件太多：一份填报最多 {MAX_FILES} 个", field="data")


def _raise(problems: list[dict[str, str]]) -> None:
    if problems:
        first = problems[0]
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 1 else ""
        raise ValidationFailed(
            f"{first['field']}：{first['message']}{more}", field=first["field"], details=problems
        )


def task_files(
    session: Session, task: Task, actor: Actor | None, ids: Iterable[str]
) -> dict[str, Attachment]:
    """The files among ``ids`` the task's page may show to ``actor``, by id: the task's own,
    and the actor's own uploads not yet claimed (a form shown again before it was saved)."""
    wanted = list(dict.fromkeys(i for i in ids if isinstance(i, str)))[:MAX_FILES]
    if not wanted:
        return {}
    owner_ref = f"task:{task.id}"
    user_id = actor.user_id if actor is not None else None
    return {
        row.id: row
        for row in session.exec(select(Attachment).where(col(Attachment.id).in_(wanted)))
        if (row.owner == OWNER and row.owner_ref == owner_ref)
        or (row.owner is None and user_id is not None and row.uploaded_by == user_id)
    }
