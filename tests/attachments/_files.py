"""Small real files of each kind, made on the spot."""

from __future__ import annotations

import io
import struct
import zlib

from openpyxl import Workbook


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image of ``width`` × ``height`` grey pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["姓名", "年龄"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXECUTABLE = b"MZ\x90\x00\x03" + b"\x00" * 200
HTML = b"<html><script>alert(1)</script></html>"
