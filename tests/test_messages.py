"""A Message is text now and a translation later: the host words a plugin's failure reason
before any visitor's language is known, and the portal shows it in the visitor's."""

from __future__ import annotations

import copy
import pickle

from shequyun.i18n import Message, gettext, translations


def test_a_message_is_its_text_and_translates_with_its_values():
    reason = Message("hook {hook} raised {error}", hook="on_startup", error="OSError: down")
    assert reason == "hook on_startup raised OSError: down"  # logs, the CLI, the API
    assert gettext(reason) == "钩子 on_startup 出错：OSError: down"  # Chinese first
    assert gettext(reason, "en") == "hook on_startup raised OSError: down"
    assert gettext(copy.deepcopy(reason)) == gettext(pickle.loads(pickle.dumps(reason)))


def test_every_plugin_failure_reason_of_the_host_has_a_chinese_entry():
    import re
    from pathlib import Path

    import shequyun.plugin_host

    source = Path(shequyun.plugin_host.__file__).read_text(encoding="utf-8")
    ids = re.findall(r'Message\(\s*"([^"]+)"', source)
    assert len(ids) >= 8
    assert sorted(set(ids) - set(translations("zh_CN"))) == []
