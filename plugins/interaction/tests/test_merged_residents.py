"""A resident's account follows their record when data quality merges two records of them."""

from __future__ import annotations

from shequyun_interaction.models import Account
from sqlmodel import Session, select

from .conftest import WEIFANG1


def _account_owner(kernel, account_phone: str) -> int | None:
    with Session(kernel.engine) as session:
        account = session.exec(
            select(Account).where(Account.phone_hash == kernel.platform.lookup_hash(account_phone))
        ).one()
        return account.resident_id


def test_the_account_moves_with_the_merge_and_back_with_the_undo(
    town, shequyun_kernel, shequyun_actors
):
    old = town.resident("陈合并", unit=WEIFANG1, phone="13900007777")
    town.verified(old)
    new = town.resident("陈合并", unit="310115004002", phone="13900007777")
    shequyun_kernel.quality.duplicates.find()
    district = shequyun_actors.district_admin("310115000000")
    client = town.client
    pairs = client.get("/api/v1/quality/duplicates", headers=district.auth).json()["pairs"]
    [pair] = [p for p in pairs if {r["id"] for r in p["residents"]} == {old.id, new.id}]

    merged = client.post(
        f"/api/v1/quality/duplicates/{pair['id']}/merge", json={"keep": new.id},
        headers=district.auth,
    )  # fmt: skip
    assert merged.status_code == 201, merged.text
    assert _account_owner(shequyun_kernel, old.phone) == new.id
    assert "interaction" in merged.json()["merge"]["moved"]["plugins"]

    undone = client.post(
        f"/api/v1/quality/merges/{merged.json()['merge']['id']}/undo", headers=district.auth
    )
    assert undone.status_code == 200, undone.text
    assert _account_owner(shequyun_kernel, old.phone) == old.id
