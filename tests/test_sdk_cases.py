"""The case-channel contract of the SDK: payloads are checked where they are made."""

from __future__ import annotations

import pytest
from shequyun_sdk.cases import CASE_ESCALATION, CASE_UPDATED, escalation, read_update


def test_an_escalation_payload_keeps_what_was_given():
    payload = escalation(
        source="interaction",
        source_ref="request:7",
        unit_code="310115004001",
        title=" 顶楼漏水 ",
        description="连续漏水",
        resident_id=12,
        attachments=["att_1"],
    )
    assert payload == {
        "source": "interaction",
        "source_ref": "request:7",
        "unit_code": "310115004001",
        "title": "顶楼漏水",
        "description": "连续漏水",
        "resident_id": 12,
        "attachments": ["att_1"],
    }
    assert CASE_ESCALATION == "case.escalation_requested" and CASE_UPDATED == "case.updated"


@pytest.mark.parametrize("field", ["source", "source_ref", "unit_code", "title", "description"])
def test_a_missing_field_is_named(field):
    values = {
        "source": "x",
        "source_ref": "y",
        "unit_code": "310115004001",
        "title": "t",
        "description": "d",
        field: "",
    }
    with pytest.raises(ValueError, match=field):
        escalation(**values)


def test_an_update_missing_a_field_reads_as_none():
    update = {
        "source": "interaction",
        "source_ref": "request:7",
        "case_id": 1,
        "case_number": "ZL1",
        "status": "closed",
        "status_label": "已结案",
        "step": "close",
        "step_label": "结案",
        "note": "",
        "unit_name": "天平路街道",
        "at": "2026-12-06T10:00:00+00:00",
    }
    assert read_update({**update, "extra": 1}) == update
    del update["note"]
    assert read_update(update) is None
