"""Log lines: one format in every process, as text or as JSON, each with its request id.

``shequyun serve`` hands :func:`logging_config` to uvicorn, which applies it in every worker
process it starts (a configuration made in the parent alone leaves ``--workers 2`` without access
lines and tracebacks without time or level). The CLI's other commands call
:func:`configure_logging` in their own process.

Text: ``2026-12-06 11:40:00,123 INFO 4242 [3f2a…] shequyun.access: GET /residents 200 12.3ms``
(time, level, process id, request id, logger, message). JSON: one object per line with ``time``
(ISO 8601 with the UTC offset), ``level``, ``logger``, ``pid``, ``request_id``, ``message``, the
access fields (``method``, ``path``, ``route``, ``status``, ``duration_ms``, ``client``) on
access lines and ``exception`` (the traceback) when there is one.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import datetime
from typing import Any

import orjson

__all__ = ["ACCESS_FIELDS", "LOG_FORMATS", "JsonFormatter", "configure_logging", "logging_config"]

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(process)d [%(request_id)s] %(name)s: %(message)s"
#: What an access line carries besides its message (``extra=`` of the ``shequyun.access`` logger).
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "client")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers (Loki, Elasticsearch, a SIEM)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created)
            .astimezone()
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for field in ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dict: everything to stderr through one handler that
    stamps each record with its request id. Uvicorn applies it in each of its workers."""
    formatter: dict[str, Any] = (
        {"()": "shequyun.logs.JsonFormatter"} if fmt == "json" else {"format": TEXT_FORMAT}
    )
    # Alembic logs at INFO each time a process only *checks* the migrations (a dozen lines of
    # "setup plugin alembic.autogenerate..." and "Context impl PostgresqlImpl." at every start
    # of every worker). `db upgrade` says what it applied itself; DEBUG still shows them.
    alembic_level = level if level == "DEBUG" else _at_least_warning(level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "shequyun.request_context.RequestIdFilter"}},
        "formatters": {"shequyun": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "shequyun",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # Uvicorn's own loggers hand their records to the root's handler. Its access log stays
        # off: the kernel writes its own access lines (shequyun.access), with the request id,
        # the route and the duration.
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic": {"level": alembic_level},
        },
    }


def _at_least_warning(level: str) -> str:
    return level if logging.getLevelName(level) > logging.WARNING else "WARNING"


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure this process's logging as :func:`logging_config` says."""
    logging.config.dictConfig(logging_config(level, fmt))
