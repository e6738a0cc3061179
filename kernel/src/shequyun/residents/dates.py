"""The dates resident input takes: one rule for a birth date and a transfer's date, whether
they come through the API, the portal's forms, a plugin or a spreadsheet import.

The rule is the SDK's (:func:`shequyun_sdk.params.read_date`), so that a plugin's own forms read
dates exactly as the resident base does.
"""

from __future__ import annotations

from shequyun_sdk.params import DATE_EXAMPLES, read_date

__all__ = ["DATE_EXAMPLES", "read_date"]
