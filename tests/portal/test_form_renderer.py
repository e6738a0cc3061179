"""The form renderer: a form drawn from its schema and UI layer reads back as the same JSON."""

from __future__ import annotations

from html.parser import HTMLParser

import jinja2
import pytest
from starlette.datastructures import FormData

from shequyun.collection.schema_check import check_schema
from shequyun.collection.ui_check import check_ui
from shequyun.collection.validator import compile_validator
from shequyun.i18n import gettext
from shequyun.portal.form_renderer import FormLayout, input_id
from shequyun.templating import FEATURE_TEMPLATES, KERNEL_TEMPLATES

HOUSEHOLD = {
    "schema": {
        "type": "object",
        "properties": {
            "households": {"type": "integer", "minimum": 0},
            "area": {"type": "number", "minimum": 0},
            "visited": {"type": "boolean"},
            "reason": {"type": "string", "maxLength": 100},
            "living": {"type": "string", "enum": ["独居", "与配偶同住", "与子女同住"]},
            "floor": {"type": "integer", "enum": [1, 2, 3, 4, 5, 6, 7, 8]},
            "needs": {
                "type": "array",
                "items": {"enum": ["助餐", "助浴", "助医", "助洁"]},
                "uniqueItems": True,
            },
            "visit_date": {"type": "string", "format": "date"},
            "visit_time": {"type": "string", "format": "date-time"},
            "phone": {"type": "string", "format": "phone"},
            "note": {"type": "string", "maxLength": 2000},
            "address": {
                "type": "object",
                "properties": {
                    "compound": {"type": "string", "maxLength": 50},
                    "building": {"type": "string", "maxLength": 10},
                    "room": {"type": "string", "maxLength": 10},
                },
                "required": ["compound"],
                "additionalProperties": False,
            },
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 20},
                        "age": {"type": "integer", "minimum": 0, "maximum": 150},
                        "disabled": {"type": "boolean"},
                        "help": {"type": "array", "items": {"enum": ["助餐", "助医"]}},
                    },
                    "required": ["name", "age"],
                    "additionalProperties": False,
                },
                "maxItems": 20,
            },
        },
        "required": ["households", "visited", "living"],
        "additionalProperties": False,
    },
    "ui": {
        "order": [
            "households",
            "area",
            "visited",
            "reason",
            "living",
            "floor",
            "needs",
            "visit_date",
            "visit_time",
            "phone",
            "note",
            "address",
            "members",
        ],
        "fields": {
            "households": {"label": "户数", "help": "按本月底统计"},
            "area": {"label": "面积（平方米）"},
            "visited": {"label": "是否已上门走访"},
            "reason": {"label": "未走访原因", "visible_if": {"field": "visited", "equals": False}},
            "living": {"label": "居住情况"},
            "floor": {"label": "所在楼层", "widget": "select"},
            "needs": {"label": "服务需求"},
            "visit_date": {"label": "走访日期"},
            "visit_time": {"label": "走访时间"},
            "phone": {"label": "联系电话"},
            "note": {"label": "备注", "widget": "textarea"},
            "address": {"label": "地址"},
            "address.compound": {"label": "小区"},
            "address.building": {"label": "楼号"},
            "address.room": {"label": "室号"},
            "members": {"label": "家庭成员"},
            "members.name": {"label": "姓名"},
            "members.age": {"label": "年龄"},
            "members.disabled": {"label": "是否残疾"},
            "members.help": {"label": "需要的帮助"},
        },
    },
}

ANSWERS = {
    "households": 640,
    "area": 52.5,
    "visited": False,
    "reason": "家中无人",
    "living": "与配偶同住",
    "floor": 6,
    "needs": ["助餐", "助医"],
    "visit_date": "2026-11-27",
    "visit_time": "2026-11-27T09:30:00+08:00",
    "phone": "13611112222",
    "note": "第一行\n第二行",
    "address": {"compound": "潍坊一村", "building": "12", "room": "302"},
    "members": [
        {"name": "张三", "age": 81, "disabled": True, "help": ["助医"]},
        {"name": "李四", "age": 79, "disabled": False},
    ],
}


class _Form(HTMLParser):
    """What a browser sends for a form: checked boxes, selected options, textareas, inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self._select: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
        if "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = [a["name"], None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = a.get("value", "")
            if "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            name, chosen, first = self._select
            self.pairs.append((name, chosen if chosen is not None else first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.pairs.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def draw(view) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([KERNEL_TEMPLATES, *FEATURE_TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_"] = gettext
    template = env.from_string(
        '{% import "collection/_fields.html" as ff with context %}'
        "<form>{{ ff.summary(view.summary) }}{{ ff.fields(view) }}</form>"
    )
    return template.render(view=view)


def submitted(html: str, **extra: str) -> FormData:
    parser = _Form()
    parser.feed(html)
    return FormData([*parser.pairs, *extra.items()])


def test_the_household_form_is_a_valid_form():
    assert check_schema(HOUSEHOLD["schema"]) == []
    assert check_ui(HOUSEHOLD["ui"], HOUSEHOLD["schema"]) == []
    assert compile_validator(HOUSEHOLD["schema"], HOUSEHOLD["ui"]).errors(ANSWERS) == []


def test_answers_drawn_and_sent_back_read_as_the_same_typed_json():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    html = draw(layout.view(ANSWERS))
    parsed = layout.parse(submitted(html))
    assert parsed.errors == {}
    assert parsed.data == ANSWERS
    assert isinstance(parsed.data["households"], int) and isinstance(parsed.data["area"], float)
    assert parsed.data["visited"] is False and parsed.data["members"][0]["disabled"] is True
    assert parsed.data["floor"] == 6  # an integer choice stays an integer


def test_an_empty_form_reads_as_no_answers_and_offers_one_blank_row():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    html = draw(layout.view({}))
    assert 'name="members[0].name"' in html and 'name="members[1].name"' not in html
    assert layout.parse(submitted(html)).data == {}


def test_every_input_has_a_label_and_an_id_from_its_path():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    html = draw(layout.view(ANSWERS))
    assert '<label for="f-households">户数' in html
    assert 'id="f-households" name="households"' in html
    assert 'aria-describedby="f-households-help"' in html
    assert "<legend>是否已上门走访" in html  # yes/no as two radios in a fieldset
    assert 'aria-label="年龄（第 2 行）"' in html  # table cells say which row they are in
    assert input_id("members[2].age") == "f-members-2-age"


def test_errors_sit_next_to_their_inputs_and_are_listed_at_the_top():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    validator = compile_validator(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    data = {
        **ANSWERS,
        "households": -1,
        "needs": ["助餐", "助餐"],
        "members": [{"name": "张三", "age": 200}],
        "address": {"building": "1"},
    }
    del data["living"]
    errors = {e.path: e.message for e in validator.errors(data)}
    assert {"households", "living", "members[0].age", "address.compound"} <= set(errors)
    view = layout.view(data, errors)
    html = draw(view)
    assert view.summary and {anchor for _l, _m, anchor in view.summary} >= {
        "f-households",
        "f-living",
        "f-members-0-age",
        "f-address-compound",
    }
    for path in ("households", "members[0].age", "address.compound"):
        fid = input_id(path)
        assert f'id="{fid}-error"' in html
        assert f'aria-describedby="{fid}-error' in html
    assert 'id="f-living-error"' in html  # the radios' fieldset carries the "必填" message
    assert '<p class="field-error" id="f-needs-error">' in html  # needs[1] shown at needs


def test_unreadable_numbers_come_back_with_their_text_and_a_chinese_error():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    form = FormData(
        [
            ("households", "六百"),
            ("area", "1,250.5"),
            ("visited", "true"),
            ("living", "独居"),
            ("members[0].name", "王五"),
            ("members[0].age", "8o"),
        ]
    )
    parsed = layout.parse(form)
    assert parsed.data["area"] == 1250.5
    assert parsed.errors == {"households": "请填写整数", "members[0].age": "请填写整数"}
    assert "households" not in parsed.data
    html = draw(layout.view(parsed.data, parsed.errors, raw=parsed.raw))
    assert 'value="六百"' in html and 'value="8o"' in html


def test_full_width_digits_are_read():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    assert layout.parse(FormData([("households", "６４０")])).data == {"households": 640}


def test_a_field_hidden_by_its_condition_is_dropped():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    parsed = layout.parse(FormData([("visited", "true"), ("reason", "忘了删")]))
    assert parsed.data == {"visited": True}
    html = draw(layout.view({}))
    assert 'data-show-field="visited" data-show-values="[&#34;false&#34;]"' in html


def test_rows_are_added_and_removed_without_javascript():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    html = draw(layout.view(ANSWERS))
    assert 'name="_add" value="members"' in html
    assert 'name="_remove" value="members[0]"' in html
    # Remove the first row: the second becomes the first.
    parsed = layout.parse(submitted(html), remove="members[0]")
    assert parsed.data["members"] == [{"name": "李四", "age": 79, "disabled": False}]
    # Add a row: the form comes back with one blank row more.
    parsed = layout.parse(submitted(html))
    blank = dict(parsed.rows)
    blank["members"] += 1
    again = draw(layout.view(parsed.data, blank_rows=blank))
    assert 'name="members[2].name"' in again and 'name="members[3].name"' not in again
    # Blank rows are not answers.
    assert layout.parse(submitted(again)).data["members"] == ANSWERS["members"]


def test_roster_rows_are_compact_and_prefixed():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    view = layout.row_view(
        {"living": "独居", "visited": True},
        {"rows[3].living": "不是可选项"},
        prefix="rows[3].",
        row_label="张三",
    )
    html = draw(view)
    assert 'name="rows[3].living"' in html and 'aria-label="居住情况（张三）"' in html
    assert "<select" in html  # single choices are drop-down lists in a table row
    assert view.summary == [("居住情况（张三）", "不是可选项", "f-rows-3-living")]
    parsed = layout.parse(submitted(html), prefix="rows[3].")
    assert parsed.data["living"] == "独居" and parsed.data["visited"] is True


def test_read_only_view_disables_inputs_and_answers_read_in_chinese():
    layout = FormLayout(HOUSEHOLD["schema"], HOUSEHOLD["ui"])
    html = draw(layout.view(ANSWERS, readonly=True))
    assert "disabled" in html and 'name="_add"' not in html
    answers = {a.label: a for a in layout.answers(ANSWERS)}
    assert answers["是否已上门走访"].text == "否"
    assert answers["服务需求"].text == "助餐、助医"
    assert answers["地址"].text == "潍坊一村 12 302"
    assert answers["走访时间"].text == "2026-11-27 09:30"
    assert answers["家庭成员"].rows[0] == ["张三", "81", "是", "助医"]


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", '" onfocus="x'])
def test_values_and_labels_are_escaped(value):
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 50}}}
    layout = FormLayout(schema, {"fields": {"a": {"label": value, "help": value}}})
    html = draw(layout.view({"a": value}))
    assert "<script>" not in html and '" onfocus' not in html
