"""The translation layer: gettext catalogs, Chinese (zh_CN) first, English to follow.

Kernel messages (errors) use English ids translated by the zh_CN catalog; portal templates
write Chinese ids inside ``_()`` and the ``en`` catalog translates them. Either way the text
goes through ``locale/<lang>/LC_MESSAGES/shequyun.po``; catalogs are read once per process with
Babel, so there is no compile step.

Plugins ship catalogs of their own (hook ``register_translations``). :class:`Catalogs` layers
each plugin's catalog over the kernel's for that plugin's messages only: a plugin's entry wins
in its own templates and code, the kernel's catalog is the fallback, then the message id
itself; one plugin's catalog never reaches the kernel's pages or another plugin's.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import PoFileError, read_po

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "Catalogs",
    "Message",
    "gettext",
    "language_of_tag",
    "translations",
]

DEFAULT_LANGUAGE = "zh_CN"
#: Languages the portal offers. Message ids are English in kernel code and Chinese in portal
#: templates; each catalog maps whichever id it meets to its language.
LANGUAGES = {"zh_CN": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"
#: The cookie that keeps the visitor's choice of language (set by ``/lang/<language>``).
LANGUAGE_COOKIE = "shequyun_lang"


def language_of_tag(tag: str) -> str | None:
    """The offered language a tag such as ``zh``, ``zh-CN``, ``zh_Hans`` or ``en-GB`` asks for,
    or None. Only the primary subtag counts: every Chinese tag gets the simplified catalog,
    every English one the English catalog."""
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


@lru_cache(maxsize=8)
def translations(language: str) -> dict[str, str]:
    """The message catalog for ``language`` as a dict (empty for English or unknown)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "shequyun.po"
    return _read(path, language) if path.is_file() else {}


@lru_cache(maxsize=64)
def directory_translations(directory: Path, language: str) -> dict[str, str]:
    """Every ``*.po`` of ``directory/<language>/LC_MESSAGES`` as one dict, files in name order
    (a message in two files takes the later file's text)."""
    merged: dict[str, str] = {}
    for path in sorted((directory / language / "LC_MESSAGES").glob("*.po")):
        try:
            merged.update(_read(path, language, strict=True))
        except PoFileError as exc:
            raise ValueError(f"{path.relative_to(directory)}: {exc}") from exc
    return merged


def _read(path: Path, language: str, *, strict: bool = False) -> dict[str, str]:
    """The translated, non-fuzzy messages of one ``.po`` file. ``strict`` raises Babel's
    ``PoFileError`` on a malformed line instead of printing a warning and skipping it."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, abort_invalid=strict)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


class Message(str):
    """A message filled in now and translated later: as a ``str`` it is ``msgid`` with its
    ``{placeholders}`` filled (what logs, the CLI and the API show), and :func:`gettext` (the
    portal's ``_()``) translates ``msgid`` and fills it with the same ``params``. For text made
    where no visitor's language is known, such as a plugin's failure reason."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> Message:
        made = super().__new__(cls, msgid.format(**params) if params else msgid)
        made.msgid, made.params = msgid, params
        return made

    def __reduce__(self) -> tuple[object, ...]:  # (copy and pickle keep the id and values)
        return (_message, (self.msgid, self.params))


def _message(msgid: str, params: dict[str, object]) -> Message:
    return Message(msgid, **params)


def gettext(message: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """Translate ``message`` into ``language`` and fill its ``{placeholders}`` from ``params``
    (a :class:`Message`'s own when it has them)."""
    if isinstance(message, Message) and not params:
        params, message = message.params, message.msgid
    text = translations(language).get(message, message)
    return text.format(**params) if params else text


class Catalogs:
    """The kernel's catalog, with each plugin's own catalog layered over it for that plugin.

    A *domain* is a plugin's name; ``None`` is the kernel. :meth:`gettext` looks ``message`` up
    in the domain's catalog, then in the kernel's, and falls back to ``message`` itself.
    """

    def __init__(self) -> None:
        self._directories: dict[str, Path] = {}

    def add(self, domain: str, directory: Path) -> None:
        """Give ``domain`` the catalogs in ``directory`` (``<language>/LC_MESSAGES/*.po``).

        Every portal language is read at once, so that a broken file fails at start-up rather
        than on a visitor's page; errors from Babel propagate.
        """
        for language in LANGUAGES:
            directory_translations(directory, language)
        self._directories[domain] = directory

    def gettext(
        self,
        domain: str | None,
        message: str,
        /,
        language: str = DEFAULT_LANGUAGE,
        **params: object,
    ) -> str:
        """``message`` in ``language`` from ``domain``'s catalog, else the kernel's; then
        ``{placeholders}`` filled from ``params``."""
        if isinstance(message, Message) and not params:
            params, message = message.params, message.msgid
        directory = self._directories.get(domain) if domain else None
        own = directory_translations(directory, language) if directory is not None else {}
        text = own.get(message) or translations(language).get(message, message)
        return text.format(**params) if params else text
