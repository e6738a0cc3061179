"""The gate's security headers: added when the answer does not set them, never over its own."""

from __future__ import annotations

from shequyun.headers import CONTENT_SECURITY_POLICY, with_security_headers


def test_an_answer_without_them_gets_every_header_its_kind_needs():
    json = with_security_headers([(b"content-type", b"application/json")], static=False)
    assert dict(json) == {
        b"content-type": b"application/json",
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"same-origin",
        b"cache-control": b"no-store",
    }
    page = dict(
        with_security_headers([(b"content-type", b"text/html; charset=utf-8")], static=True)
    )
    assert page[b"content-security-policy"] == CONTENT_SECURITY_POLICY.encode()
    assert page[b"x-frame-options"] == b"DENY"
    assert b"cache-control" not in page  # a static file may be cached


def test_headers_the_answer_set_itself_are_kept_whatever_their_case():
    own = [
        (b"Content-Type", b"text/html"),
        (b"Cache-Control", b"max-age=60"),
        (b"Content-Security-Policy", b"sandbox"),
    ]
    headers = with_security_headers(own, static=False)
    assert headers[:3] == own
    added = dict(headers[3:])
    assert added == {
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"same-origin",
        b"x-frame-options": b"DENY",
    }


def test_the_answer_s_own_list_is_left_as_it_was():
    """A response object may be sent more than once: its header list must not grow."""
    raw = [(b"content-type", b"application/json")]
    with_security_headers(raw, static=False)
    assert raw == [(b"content-type", b"application/json")]
