"""Residents for a plugin's tests: valid ID numbers and registration bodies.

A plugin that works on residents needs some in its test database. Residents are registered as
a cadre registers them, through ``POST /api/v1/residents``, whose rules (a valid 18-character ID
number whose birth date and check digit agree, a phone of 11 digits, an address) the kernel
enforces for tests as in production::

    from shequyun_sdk.testing.residents import id_number, register

    def test_an_elder_can_be_enrolled(shequyun_client, shequyun_actors):
        cadre = shequyun_actors.cadre("310104003001")
        elder = register(cadre, name="沈阿婆", id_number=id_number(born="19400101"))
        young = register(cadre, name="小王", id_number=id_number(born="19990101", serial="125"))
        ...

Each resident needs an ID number of their own: vary ``serial`` (or ``born``). A plugin that
follows residents (``resident.moved``, ``resident.removed``) moves or removes them the same way,
through the API: :func:`transfer` and :func:`remove` (since SDK 1.3). See
``docs/plugins/testing.md``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["id_number", "register", "remove", "resident", "transfer"]

#: GB 11643-1999: the weight of each of the first 17 digits, and the check character of the
#: weighted sum modulo 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number(born: str = "19450312", *, region: str = "310104", serial: str = "124") -> str:
    """A valid 18-character resident ID number: ``region`` (the six-digit division code where it
    was issued), ``born`` (``YYYYMMDD``) and the three-digit ``serial`` (odd: a man, even: a
    woman), then its GB 11643 check character."""
    first = f"{region}{born}{serial}"
    if len(first) != 17 or not first.isdigit():
        raise ValueError("id_number needs a 6-digit region, an 8-digit birth date, 3-digit serial")
    total = sum(int(digit) * weight for digit, weight in zip(first, _WEIGHTS, strict=True))
    return first + _CHECK[total % 11]


def resident(**overrides: Any) -> dict[str, Any]:
    """A valid body for ``POST /api/v1/residents`` (王秀英, born 1945, 户籍, an address and a
    phone), with ``overrides`` replacing or adding fields (``tags``, ``attributes``, ...)."""
    body: dict[str, Any] = {
        "name": "王秀英",
        "id_number": id_number(),
        "registration": "户籍",
        "phone": "13812345678",
        "address": {"compound": "潍坊一村", "building": "12", "entrance": "3", "room": "402"},
    }
    body.update(overrides)
    return body


def register(cadre: Any, **overrides: Any) -> dict[str, Any]:
    """Register a resident in ``cadre``'s committee (a test actor from ``shequyun_actors``, who
    may write residents) through the API, and return the resident as the API shows it
    (``id``, ``version``, ``name``, ...). Fails the test with the API's answer when refused."""
    response = cadre.client().post("/api/v1/residents", json=resident(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def transfer(
    cadre: Any, resident: dict[str, Any], to_unit_code: str, *, effective_on: str = "2026-11-01"
) -> dict[str, Any]:
    """Move ``resident`` (as :func:`register` returned it, or as read since) to the committee
    ``to_unit_code`` through ``POST /api/v1/residents/{id}/transfer``, as ``cadre`` (who holds
    ``residents.transfer`` over it), and return the API's answer (``id``, ``unit_code``,
    ``version``). The kernel publishes ``resident.moved``. Fails the test with the API's answer
    when refused, a stale ``version`` included."""
    response = cadre.client().post(
        f"/api/v1/residents/{resident['id']}/transfer",
        json={
            "to_unit_code": to_unit_code,
            "effective_on": effective_on,
            "version": resident["version"],
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def remove(cadre: Any, resident: dict[str, Any], *, reason: str = "已迁出本市") -> dict[str, Any]:
    """Remove (注销) ``resident`` through ``DELETE /api/v1/residents/{id}`` as ``cadre``, and return
    the API's answer (``id``, ``status`` ``removed``, the new ``version``...). The kernel publishes
    ``resident.removed``. Fails the test with the API's answer when refused."""
    response = cadre.client().request(
        "DELETE",
        f"/api/v1/residents/{resident['id']}",
        json={"version": resident["version"], "reason": reason},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
