"""The harness declares the marks its documented tests carry: a plugin's suite needs no set-up."""

from __future__ import annotations

pytest_plugins = ("pytester",)


def test_a_plugins_browser_test_runs_under_strict_markers(pytester):
    # No conftest, no ini file: what a plugin author has after `shequyun plugin new`.
    pytester.makepyfile(
        test_board="""
        import pytest

        pytestmark = pytest.mark.browser

        def test_marked():
            pass
        """
    )
    result = pytester.runpytest_subprocess(
        "--strict-markers", "-W", "error", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
