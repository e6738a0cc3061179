"""Test your plugin the way the kernel tests itself.

Install with ``pip install shequyun-sdk[testing]``; pytest then loads the fixtures of
:mod:`shequyun_sdk.testing.pytest_plugin` automatically. See ``docs/plugins/testing.md``.
"""
