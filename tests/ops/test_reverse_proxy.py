"""The guide's nginx example, run for real: a Chinese search a browser percent-encoded reaches
uvicorn byte for byte. uvicorn refuses a request line holding raw UTF-8 (``400 Invalid HTTP
request received.``, before the platform sees it), and an nginx that decodes the path on the way
(``proxy_pass http://shequyun$uri$is_args$args;``, a common copy) sends it exactly that.

Skipped where nginx is not installed (``apt-get install nginx-light``).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .servers import START_SECONDS, free_port
from .test_operations_guide import block

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")

#: An ASGI app that answers with the path and query string exactly as uvicorn received them.
ECHO = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = scope["raw_path"] + b" " + scope["query_string"]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
"""

SENT = [
    b"/residents?q=%E5%BC%A0%E4%B8%89",  # what a browser sends for /residents?q=张三
    b"/api/v1/residents?q=%E5%BC%A0+%E4%B8%89&unit=310101",
    b"/plugins/governance/knowledge/%E5%9E%83%E5%9C%BE%E5%88%86%E7%B1%BB",  # a Chinese path
    b"/files/a%2Fb",  # an encoded slash stays one segment
]


def test_a_percent_encoded_chinese_search_reaches_uvicorn_as_the_browser_sent_it(tmp_path):
    with echo_server(tmp_path) as app_port, guide_nginx(tmp_path, app_port) as port:
        for target in SENT:
            status, body = get(port, target)
            path, _, query = target.partition(b"?")
            assert (status, body) == (200, path + b" " + query), target
        # What a script sends when it does not encode: refused before any application runs.
        assert get(port, "/residents?q=张三".encode()) == (400, b"Invalid HTTP request received.")


def test_the_guide_passes_the_request_line_on_unchanged():
    """``proxy_pass`` with nothing after the upstream's name: nginx then forwards the request
    line as the client wrote it. With a URI part (``http://shequyun/``) it decodes the path
    (``a%2Fb`` becomes ``a/b``); with variables (``$uri``) it sends the decoded bytes raw."""
    nginx = block("upstream shequyun {")
    assert re.findall(r"proxy_pass\s+([^;]+);", nginx) == ["http://shequyun"]


def get(port: int, target: bytes) -> tuple[int, bytes]:
    """Send ``GET target`` as bytes, unchanged (HTTP clients would normalise it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: sqy\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return int(head.split()[1]), body


@contextmanager
def echo_server(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "echo.py").write_text(ECHO, encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(tmp_path), "echo:app"]
    command += ["--port", str(port), "--http", "httptools"]  # as `shequyun serve` runs it
    with started(command, port, tmp_path, "uvicorn"):
        yield port


@contextmanager
def guide_nginx(tmp_path: Path, app_port: int) -> Iterator[int]:
    """The guide's nginx block on a free port, without TLS (no certificate here) and without
    the port-80 redirect, proxying to ``app_port``."""
    port = free_port()
    site = block("upstream shequyun {")
    site = re.sub(r"server 127\.0\.0\.1:\d+( max_fails=0)?;", f"server 127.0.0.1:{app_port};", site)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    site = re.sub(r"\n\s*(http2 on|ssl_certificate\w*\s[^;]*);", "", site)
    site = re.sub(r"\nserver \{ listen 80;.*\}\n", "\n", site)
    work = tmp_path / "nginx"
    work.mkdir()
    temp = " ".join(
        f"{kind}_temp_path {work}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "nginx.conf").write_text(
        f"daemon off; pid {work}/nginx.pid; error_log {work}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temp}\n{site}}}\n",
        encoding="utf-8",
    )
    command = [str(NGINX), "-p", str(work), "-c", str(work / "nginx.conf")]
    with started(command, port, tmp_path, "nginx"):
        yield port


@contextmanager
def started(command: list[str], port: int, tmp_path: Path, name: str) -> Iterator[None]:
    log = tmp_path / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
