"""The statements that claim and release files, built once per process.

Claiming is on the hot path of every submission that carries files. Loading the rows, checking
them in Python and flushing one ``UPDATE`` per row cost more than everything else a submission
does; these do the check inside one ``UPDATE … RETURNING`` each, with bound parameters.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, String, Table, and_, any_, bindparam, case, func, select, update
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import ColumnElement

from ..direct import DirectStatement
from .models import Attachment

__all__ = ["CLAIM", "CLAIM_ARRAY", "CLAIM_DIRECT", "RELEASE"]

_FILES: Table = Attachment.__table__  # type: ignore[attr-defined]
_c = _FILES.c

#: Who may claim: files ``user_id`` uploaded that nobody holds, or files this owner holds.
#: Written as a CASE, which no index answers, so that the files are always found by their ids
#: (the primary key): as an OR, a prepared (generic) plan could read every unclaimed upload
#: through the ``owner`` indexes instead, when the statistics still said there were few
#: (6,077 committees' photos uploaded before a deadline: 1.7 ms of PostgreSQL a claim).
_CLAIMABLE = case(
    (_c.owner.is_(None), _c.uploaded_by == bindparam("user_id")),
    else_=and_(_c.owner == bindparam("w_owner"), _c.owner_ref == bindparam("w_owner_ref")),
)
_CLAIMED = {
    "owner": bindparam("new_owner"),
    "owner_ref": bindparam("new_owner_ref"),
    "unit_id": bindparam("new_unit_id"),
    "public": bindparam("new_public"),
    "read_permissions": bindparam("new_read_permissions", type_=_c.read_permissions.type),
    "claimed_at": func.coalesce(_c.claimed_at, bindparam("now", type_=_c.claimed_at.type)),
}


def _claim(ids: ColumnElement[bool]) -> ReturningUpdate[tuple[str, str]]:
    return update(_FILES).where(ids, _CLAIMABLE).values(_CLAIMED).returning(_c.id, _c.content_type)


#: Give the files ``ids`` to ``owner``/``owner_ref`` where the actor may: files ``user_id``
#: uploaded that nobody holds, or files this owner already holds. Returns ``id`` and
#: ``content_type`` of each file claimed; an id missing from the result was refused.
CLAIM = _claim(_c.id.in_(bindparam("ids", expanding=True)))

#: PostgreSQL: ``CLAIM`` with the ids in one array parameter, ``ids_array``; a CTE of another
#: statement too (a submission claims its files in the statement that writes the task).
CLAIM_ARRAY = _claim(_c.id == any_(bindparam("ids_array", type_=ARRAY(String))))

#: ``CLAIM`` by dialect, with the ids in one parameter, run on the DBAPI connection (see
#: :mod:`shequyun.direct`; a statement compiled once cannot expand a list): ``ids_array`` on
#: PostgreSQL, ``ids_json`` (a JSON array) on SQLite. Every submission with files claims them.
CLAIM_DIRECT = {
    "postgresql": DirectStatement(CLAIM_ARRAY),
    "sqlite": DirectStatement(
        _claim(
            _c.id.in_(
                select(
                    func.json_each(bindparam("ids_json", type_=String))
                    .table_valued("value")
                    .c.value
                )
            )
        )
    ),
}

#: Give back what ``owner``/``owner_ref`` holds except ``keep``: unclaimed again, its
#: uploader's alone. Returns the ids released.
RELEASE: ReturningUpdate[tuple[str]] = (
    update(_FILES)
    .where(
        _c.owner == bindparam("w_owner"),
        _c.owner_ref == bindparam("w_owner_ref"),
        _c.id.not_in(bindparam("keep", expanding=True)),
    )
    .values(
        owner=None,
        owner_ref=None,
        unit_id=None,
        claimed_at=None,
        public=False,
        read_permissions=bindparam("no_permissions", type_=_c.read_permissions.type),
    )
    .returning(_c.id)
)
