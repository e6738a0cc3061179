"""Residents' writes and reads of personal data through both doors.

Every write leaves its history rows (:class:`~shequyun.residents.models.ResidentChange`) and one
audit entry naming the resident, from :class:`~shequyun.residents.service.ResidentService`; an
import is audited once for its file; a reveal and an export are audited, with no history.
"""

from __future__ import annotations

import re

from ..portal.test_residents_pages import edit_form
from ..residents._data import id_number, resident
from ._trail import Trail, hidden

W1, W2 = "310115004001", "310115004002"
IMPORT_CSV = "姓名,身份证号,户籍类型,所属居委编码,联系电话,小区,楼栋,单元,室,户号,标签\n"

ROUTES = [
    "POST /api/v1/residents",
    "PATCH /api/v1/residents/{resident_id}",
    "POST /api/v1/residents/{resident_id}/reveal",
    "POST /api/v1/residents/{resident_id}/transfer",
    "DELETE /api/v1/residents/{resident_id}",
    "POST /api/v1/residents/import",
    "GET /api/v1/residents/export",
    "POST /api/v1/residents/batch/tags",
    "POST /residents/new",
    "POST /residents/{resident_id:int}/edit",
    "POST /residents/{resident_id:int}/reveal",
    "POST /residents/{resident_id:int}/transfer",
    "POST /residents/import",
    "POST /residents/import/confirm",
    "POST /residents/export",
    "POST /residents/batch",
]


def test_resident_writes_and_reads_leave_the_same_trail_through_both_doors(
    shequyun_kernel, shequyun_actors
):
    cadre, neighbour = shequyun_actors.cadre(W1), shequyun_actors.cadre(W2)
    api, portal, other = cadre.client(), cadre.portal(), neighbour.client()
    trail = Trail(shequyun_kernel)

    # Each entry says which door the change came through (detail.source).
    def created(door):
        return [("resident.created", "resident", {"unit": W1, "version": 1, "source": door})]

    def updated(door):
        return [
            ("resident.updated", "resident", {"fields": ["phone"], "version": 2, "source": door})
        ]

    def moved(door):
        detail = {"to_unit": W2, "effective_on": "2026-11-01", "source": door}
        return [("resident.transferred", "resident", detail)]

    wang = trail.step(
        "POST /api/v1/residents",
        api.post("/api/v1/residents", json=resident()),
        status=201,
        audit=created("api"),
        history={"resident": 1},
    ).json()
    url = f"/api/v1/residents/{wang['id']}"
    trail.step(
        "PATCH /api/v1/residents/{resident_id}",
        api.patch(url, json={"version": 1, "phone": "13900001111"}),
        audit=updated("api"),
        history={"resident": 1},
    )
    trail.step(
        "POST /api/v1/residents/{resident_id}/reveal",
        api.post(f"{url}/reveal", json={"fields": ["id_number"], "reason": "核对高龄津贴"}),
        audit=[
            (
                "resident.revealed",
                "resident",
                {"fields": ["id_number"], "reason": "核对高龄津贴"},
            )
        ],
    )
    trail.step(
        "POST /api/v1/residents/{resident_id}/transfer",
        api.post(
            f"{url}/transfer",
            json={"to_unit_code": W2, "effective_on": "2026-11-01", "reason": "搬家", "version": 2},
        ),
        audit=moved("api"),
        history={"resident": 3},  # the committee, and the address and household left behind
    )
    trail.step(
        "DELETE /api/v1/residents/{resident_id}",
        other.request("DELETE", url, json={"version": 3, "reason": "已故"}),
        audit=[("resident.removed", "resident", {"reason": "已故", "version": 4, "source": "api"})],
        history={"resident": 2},  # the status, and the reason
    )
    row = f"赵一,{id_number(born='19500101')},户籍,{W1},13800001111,潍坊一村,1,1,101,,\n"
    trail.step(
        "POST /api/v1/residents/import",
        api.post(
            "/api/v1/residents/import",
            params={"dry_run": "false"},
            files={"file": ("居民.csv", (IMPORT_CSV + row).encode(), "text/csv")},
        ),
        status=(200, 201),
        audit=[("resident.imported", "resident", {"rows": 1, "created": 1})],
        history={"resident": 1},
    )
    trail.step(
        "GET /api/v1/residents/export",
        api.get("/api/v1/residents/export", params={"purpose": "重阳节走访慰问名单"}),
        audit=[("resident.exported", "resident", {"purpose": "重阳节走访慰问名单"})],
    )

    # The same through the pages.
    chen = trail.step(
        "POST /residents/new",
        portal.post(
            "/residents/new",
            data={
                "name": "陈美华",
                "id_number": id_number(born="19520708"),
                "registration": "huji",
                "address.compound": "潍坊一村",
                "address.building": "3",
            },
            follow_redirects=False,
        ),
        status=303,
        audit=created("portal"),
        history={"resident": 1},
    )
    page = re.match(r"/residents/\d+", chen.headers["location"])[0]
    form = portal.get(f"{page}/edit").text
    trail.step(
        "POST /residents/{resident_id:int}/edit",
        portal.post(
            f"{page}/edit", data=edit_form(form, phone="13900002222"), follow_redirects=False
        ),
        status=303,
        audit=updated("portal"),
        history={"resident": 1},
    )
    trail.step(
        "POST /residents/{resident_id:int}/reveal",
        portal.post(f"{page}/reveal", data={"fields": ["phone"], "reason": "核对联系电话"}),
        audit=[("resident.revealed", "resident", {"fields": ["phone"], "reason": "核对联系电话"})],
    )
    trail.step(
        "POST /residents/{resident_id:int}/transfer",
        portal.post(
            f"{page}/transfer",
            data={
                "version": "2",
                "to_unit_code": W2,
                "effective_on": "2026-11-01",
                "reason": "搬家",
            },
            follow_redirects=False,
        ),
        status=303,
        audit=moved("portal"),
        history={"resident": 2},
    )
    row = f"钱二,{id_number(born='19600202')},常住,{W1},,潍坊一村,2,1,201,,\n"
    checked = trail.step(
        "POST /residents/import",
        portal.post(
            "/residents/import",
            files={"file": ("名单.csv", (IMPORT_CSV + row).encode(), "text/csv")},
        ),
        audit=[],  # a check writes nothing
    )
    trail.step(
        "POST /residents/import/confirm",
        portal.post(
            "/residents/import/confirm",
            data={"token": hidden(checked.text, "token")},
            follow_redirects=False,
        ),
        status=303,
        audit=[("resident.imported", "resident", {"rows": 1, "created": 1})],
        history={"resident": 1},
    )
    trail.step(
        "POST /residents/export",
        portal.post(
            "/residents/export",
            data={"columns": ["name", "tags"], "format": "csv", "purpose": "慰问名单"},
        ),
        audit=[
            (
                "resident.exported",
                "resident",
                {"purpose": "慰问名单", "columns": ["name", "tags"], "rows": 2},
            )
        ],
    )

    # 批量操作: an entry and a history row for each resident whose tags change, as one edit.
    zhao = api.get("/api/v1/residents", params={"q": "赵一"}).json()["items"][0]["id"]
    qian = api.get("/api/v1/residents", params={"q": "钱二"}).json()["items"][0]["id"]
    trail.step(
        "POST /api/v1/residents/batch/tags",
        api.post(
            "/api/v1/residents/batch/tags", json={"resident_ids": [zhao, qian], "add": ["志愿者"]}
        ),
        audit=[("resident.updated", "resident", {"added": ["志愿者"], "batch": 2})] * 2,
        history={"resident": 2},
    )
    trail.step(
        "POST /residents/batch",
        portal.post(
            "/residents/batch",
            data={"id": [str(zhao), str(qian)], "action": "remove", "tag": "志愿者"},
            follow_redirects=False,
        ),
        status=303,
        audit=[("resident.updated", "resident", {"removed": ["志愿者"], "batch": 2})] * 2,
        history={"resident": 2},
    )
    trail.check_walked(ROUTES)
