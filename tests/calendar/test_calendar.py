"""The working-day calendar in force: the shipped arrangement, edits over it, and who edits."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlmodel import Session, select

from shequyun.identity.models import AuditEntry


def test_anyone_signed_in_reads_a_year_and_the_platform_admin_edits_it(
    shequyun_client, shequyun_actors
):
    cadre = shequyun_actors.cadre()
    year = shequyun_client.get("/api/v1/calendar?year=2027", headers=cadre.auth).json()
    assert year["known"] and year["provisional"]
    assert {"day": "2027-02-05", "kind": "holiday", "name": "春节"}.items() <= year["days"][
        1
    ].items()

    # The State Council publishes the arrangement; the administrator enters a 调休 Saturday.
    refused = shequyun_client.put(
        "/api/v1/calendar/days/2027-02-20", json={"kind": "workday"}, headers=cadre.auth
    )
    assert refused.status_code == 403
    admin = shequyun_actors.platform_admin()
    saved = shequyun_client.put(
        "/api/v1/calendar/days/2027-02-20",
        json={"kind": "workday", "name": "春节", "note": "国办通知"},
        headers=admin.auth,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"] == "edited"
    platform = shequyun_client.app.state.platform
    with platform.session() as session:
        calendar = platform.work_calendar(session)
    assert calendar.is_working_day(date(2027, 2, 20))
    assert calendar.add_working_days(date(2027, 2, 19), 1) == date(2027, 2, 20)

    gone = shequyun_client.delete("/api/v1/calendar/days/2027-02-20", headers=admin.auth)
    assert gone.json() == {"cleared": True}
    with platform.session() as session:
        assert not platform.work_calendar(session).is_working_day(date(2027, 2, 20))
        actions = session.exec(select(AuditEntry.action)).all()
    assert "calendar.day_set" in actions and "calendar.day_cleared" in actions


def test_bad_input_names_the_field(shequyun_client, shequyun_actors):
    admin = shequyun_actors.platform_admin()
    bad_day = shequyun_client.put(
        "/api/v1/calendar/days/2027-13-01", json={"kind": "holiday"}, headers=admin.auth
    )
    assert bad_day.status_code == 422 and bad_day.json()["error"]["field"] == "day"
    bad_kind = shequyun_client.put(
        "/api/v1/calendar/days/2027-03-01", json={"kind": "party"}, headers=admin.auth
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["field"] == "kind"
    nameless = shequyun_client.put(
        "/api/v1/calendar/days/2027-03-01", json={"kind": "holiday"}, headers=admin.auth
    )
    assert nameless.json()["error"]["field"] == "name"
    year = shequyun_client.get("/api/v1/calendar?year=abc", headers=admin.auth)
    assert year.status_code == 422 and year.json()["error"]["field"] == "year"


def test_an_ordinary_edit_drops_a_shipped_holiday(shequyun_kernel):
    from shequyun.calendar import service

    with Session(shequyun_kernel.engine) as session:
        service.set_day(session, None, date(2026, 10, 7), "ordinary", cli=True)
        session.commit()
        calendar = service.load(session)
    assert calendar.is_working_day(date(2026, 10, 7))
    assert calendar.listed(date(2026, 10, 6)) is not None


def test_the_cli_shows_and_edits(shequyun_kernel, tmp_path):
    from shequyun.cli import main

    env = {
        "SHEQUYUN_DATABASE_URL": shequyun_kernel.engine.url.render_as_string(hide_password=False),
        "SHEQUYUN_DATA_DIR": str(tmp_path / "var"),
        "SHEQUYUN_PLUGINS_ALLOWED": "core",
    }
    runner = CliRunner(env=env)
    shown = runner.invoke(main, ["calendar", "show", "2026"])
    assert shown.exit_code == 0, shown.output
    assert "2026-10-10 周六 上班 国庆节" in shown.output
    set_ = runner.invoke(main, ["calendar", "set", "2027-02-20", "workday", "春节"])
    assert set_.exit_code == 0, set_.output
    edited = runner.invoke(main, ["calendar", "show", "2027"]).output
    assert "2027-02-20 周六 上班 春节（已修改）" in edited
    assert "已恢复" in runner.invoke(main, ["calendar", "unset", "2027-02-20"]).output
