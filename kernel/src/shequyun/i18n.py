"""The translation layer: gettext catalogs, Chinese (zh_CN) first, English to follow.

Kernel messages (errors) use English ids translated by the zh_CN catalog; portal templates
write Chinese ids inside ``_()`` and the ``en`` catalog translates them. Either way the text
goes through ``locale/<lang>/LC_MESSAGES/shequyun.po``; catalogs are read once per process with
Babel, so there is no compile step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "gettext", "translations"]

DEFAULT_LANGUAGE = "zh_CN"
#: Languages the portal offers. Message ids are English in kernel code and Chinese in portal
#: templates; each catalog maps whichever id it meets to its language.
LANGUAGES = {"zh_CN": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=8)
def translations(language: str) -> dict[str, str]:
    """The message catalog for ``language`` as a dict (empty for English or unknown)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "shequyun.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def gettext(message: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """Translate ``message`` into ``language`` and fill its ``{placeholders}`` from ``params``."""
    text = translations(language).get(message, message)
    return text.format(**params) if params else text
