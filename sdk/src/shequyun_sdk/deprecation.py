"""Deprecations: how the SDK retires a name or a behaviour without breaking plugins at once.

Within a major version nothing public is removed (docs/plugins/compatibility.md). What is
going away keeps working and warns with :class:`SdkDeprecationWarning`, whose message names the
release that removes it and what to use instead, so a plugin's test suite (which should turn
warnings into errors) finds every use long before the removal::

    from shequyun_sdk.deprecation import deprecated

    def old_name(*args):
        deprecated("shequyun_sdk.old_name", removed_in="2.0", instead="use new_name")
        return new_name(*args)
"""

from __future__ import annotations

import warnings

__all__ = ["SdkDeprecationWarning", "deprecated"]


class SdkDeprecationWarning(DeprecationWarning):
    """Something a plugin uses will be removed in the SDK release the message names."""


def deprecated(what: str, *, removed_in: str, instead: str = "", stacklevel: int = 2) -> None:
    """Warn that ``what`` is deprecated and goes away in shequyun-sdk ``removed_in``.

    ``instead`` says what to do now; ``stacklevel`` counts from the caller of this function, so
    the default points the warning at the plugin's line that used the deprecated thing's caller.
    """
    message = f"{what} is deprecated and will be removed in shequyun-sdk {removed_in}"
    if instead:
        message += f": {instead}"
    warnings.warn(SdkDeprecationWarning(message), stacklevel=stacklevel + 1)
