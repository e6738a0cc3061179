"""``shequyun demo``'s 居社互动: the content, and one resident account a visitor signs in with."""

from __future__ import annotations

from shequyun_interaction import demo

from shequyun.residents.demo import DEMO_RESIDENT

from .conftest import API

TIANPING_COMMITTEE = "310104003001"


def register_the_demo_resident(town):
    created = town.client.post(
        "/api/v1/residents",
        headers=town.cadre(TIANPING_COMMITTEE).auth,
        json={
            "name": demo.RESIDENT_NAME,
            "id_number": demo.RESIDENT_ID_NUMBER,
            "phone": demo.RESIDENT_PHONE,
            "registration": "户籍",
            "address": {"compound": "临江新村", "building": "1", "entrance": "3", "room": "601"},
            "household_number": "H00003",
        },
    )
    assert created.status_code == 201, created.text


def sign_in(town):
    return town.client.post(
        f"{API}/auth/login",
        json={"phone": demo.RESIDENT_PHONE, "password": demo.RESIDENT_PASSWORD},
    )


def test_it_names_the_resident_the_kernels_demo_registers():
    assert (
        DEMO_RESIDENT.name,
        DEMO_RESIDENT.id_number,
        DEMO_RESIDENT.phone,
    ) == (demo.RESIDENT_NAME, demo.RESIDENT_ID_NUMBER, demo.RESIDENT_PHONE)


def test_a_visitor_signs_in_as_the_verified_demo_resident_and_sees_her_buildings_vote(
    town, shequyun_kernel
):
    register_the_demo_resident(town)

    summary = demo.load(shequyun_kernel.platform)

    assert f"居民演示账号：手机 {demo.RESIDENT_PHONE}，密码 Demo-2026（陈晓梅，" in summary
    login = sign_in(town)
    assert login.status_code == 200, login.text
    headers = {"X-Resident-Token": login.json()["token"]}
    me = town.client.get(f"{API}/me", headers=headers).json()
    assert me["account"]["verified"] is True and me["resident"]["name"] == "陈晓梅"
    topics = town.client.get(f"{API}/topics", headers=headers).json()["items"]
    assert "临江新村1号楼加装电梯意见征询" in [t["title"] for t in topics]

    again = demo.load(shequyun_kernel.platform)
    assert "居民演示账号" not in again and "未重复创建" in again


def test_without_the_demo_resident_the_account_is_opened_but_not_verified(town, shequyun_kernel):
    summary = demo.load(shequyun_kernel.platform)

    assert f"居民演示账号 {demo.RESIDENT_PHONE} 已注册，但未找到演示居民陈晓梅，未核验。" in summary
    login = sign_in(town)
    headers = {"X-Resident-Token": login.json()["token"]}
    assert town.client.get(f"{API}/me", headers=headers).json()["account"]["verified"] is False
