"""Platform.user_names: a plugin names, to staff, the users it recorded by id — and nothing more."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from shequyun.identity.models import User


def test_display_names_of_the_users_asked_for(shequyun_kernel, shequyun_actors):
    clerk = shequyun_actors.cadre("310115004001")
    admin = shequyun_actors.district_admin()
    platform = shequyun_kernel.platform
    with platform.session() as session:
        names = platform.user_names(session, [clerk.user.id, admin.user.id, 987654, 2**40])
    assert names == {clerk.user.id: clerk.user.display_name, admin.user.id: admin.user.display_name}
    assert clerk.username not in names.values()  # the name, never the login name


def test_a_deactivated_user_keeps_their_name(shequyun_kernel, shequyun_actors):
    clerk = shequyun_actors.cadre("310115004001")
    with Session(shequyun_kernel.engine) as session:
        user = session.get(User, clerk.user.id)
        user.display_name, user.is_active = "张丽", False
        session.add(user)
        session.commit()
    platform = shequyun_kernel.platform
    with platform.session() as session:
        assert platform.user_names(session, {clerk.user.id}) == {clerk.user.id: "张丽"}
        assert platform.user_names(session, []) == {}


def test_at_most_a_thousand_ids_a_call(shequyun_kernel):
    platform = shequyun_kernel.platform
    with platform.session() as session:
        platform.user_names(session, range(1, 1001))  # the most one call takes
        with pytest.raises(ValueError, match="1000"):
            platform.user_names(session, range(1, 1002))
