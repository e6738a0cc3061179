"""One typed settings object, read from ``SHEQUYUN_*`` environment variables and a TOML file.

Precedence, lowest first: built-in defaults, the TOML file (``SHEQUYUN_CONFIG`` or
``./shequyun.toml`` when present), environment variables, then explicit keyword overrides.
A string value ``"$env:NAME"`` in the TOML file is read from the environment variable ``NAME``,
so secrets never have to be written into the file.

Secrets (the secret key, the database password) are never shown: ``repr`` and
:meth:`Settings.public_dict` mask them.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import make_url

__all__ = ["Settings", "SettingsError", "load_settings", "resolve_secret_key"]

ENV_PREFIX = "SHEQUYUN_"
DEFAULT_CONFIG_FILE = "shequyun.toml"

# Settings that hold lists are written as comma-separated values in the environment.
_LIST_FIELDS = {"plugins_disabled", "plugins_allowed", "forwarded_allow_ips", "database_replicas"}
_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value the platform cannot use; the message names it."""


class Settings(BaseModel):
    """Everything the kernel can be configured with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="Where the embedded database lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in data_dir."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""), description="Signs sessions; keep it secret."
    )
    data_key: SecretStr = Field(
        default=SecretStr(""),
        description="Encrypts ID and phone numbers at rest; derived from secret_key when empty.",
    )
    plugins_disabled: tuple[str, ...] = ()
    plugins_allowed: tuple[str, ...] | None = None
    plugin_settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    trace_hooks: bool = False
    strict_events: bool = Field(
        default=False,
        description="Refuse to publish an event whose type is undeclared or whose payload "
        "breaks its declaration (the test harness turns it on).",
    )
    check_migrations: bool = True
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    https: bool = Field(
        default=False,
        description="The site is served over HTTPS (TLS may end at a proxy in front): cookies "
        "are Secure and every request's scheme is https.",
    )
    forwarded_allow_ips: tuple[str, ...] = Field(
        default=(),
        description="Reverse proxies (addresses or networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty believes nobody.",
    )
    language: str = "zh_CN"
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    attachments_dir: Path | None = Field(
        default=None,
        description="Where attachment files are kept; data_dir/attachments when empty. "
        "Every worker and machine must see the same directory.",
    )
    attachment_max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    inline_worker: bool = Field(
        default=True,
        description="Deliver events and run scheduled jobs inside the web process "
        "(embedded default).",
    )

    # -- operations at scale (issue 20): pools, poolers, replicas, logs, metrics --------------
    database_pool_size: int = Field(
        default=10, gt=0, description="Connections each process keeps open to the database."
    )
    database_max_overflow: int = Field(
        default=10, ge=0, description="Connections a burst may open beyond the pool."
    )
    database_pooler: Literal["none", "transaction"] = Field(
        default="none",
        description="'transaction' when database_url points at a pooler in transaction mode "
        "(PgBouncer): no prepared statements, no session state.",
    )
    database_replicas: tuple[str, ...] = Field(
        default=(),
        description="URLs of PostgreSQL streaming replicas that read-only pages and API routes "
        "read from (see docs/operations.md, Read replicas).",
    )
    replica_max_lag: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a replica may lag behind the primary before it is skipped.",
    )
    replica_check_every: float = Field(
        default=1.0, gt=0, description="Seconds between health checks of the replicas."
    )
    log_format: Literal["text", "json"] = "text"
    access_log: bool = Field(default=True, description="One log line per request.")
    metrics: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token /metrics asks for; without one, only local unproxied "
        "clients are answered.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from .proxies import parse_networks

        parse_networks(value)  # raises ValueError naming the entry
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        if value:
            try:
                make_url(value)
            except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
                raise ValueError(
                    "is not a database URL such as postgresql+psycopg://host/db"
                ) from exc
        return value

    @field_validator("database_replicas")
    @classmethod
    def _valid_replicas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number, url in enumerate(value, 1):
            try:
                parsed = make_url(url)
            except Exception as exc:
                raise ValueError(f"entry {number} is not a database URL") from exc
            if parsed.get_backend_name() != "postgresql":
                raise ValueError(f"entry {number} is not a PostgreSQL URL")
        return value

    @model_validator(mode="after")
    def _replicas_need_postgresql(self) -> Settings:
        if self.database_replicas and self.is_sqlite:
            raise ValueError("database_replicas: read replicas need a PostgreSQL database_url")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one, or the SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shequyun.db').resolve()}"

    @property
    def effective_attachments_dir(self) -> Path:
        """The directory attachment files live in."""
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def redacted_database_url(self) -> str:
        """The database URL with its password masked, safe for logs."""
        return make_url(self.effective_database_url).render_as_string(hide_password=True)

    def settings_for_plugin(self, name: str) -> dict[str, Any]:
        """The configured settings of one plugin (empty when none are configured)."""
        return dict(self.plugin_settings.get(name, {}))

    def public_dict(self) -> dict[str, Any]:
        """The settings as a dict with every secret masked."""
        data = self.model_dump()
        data["secret_key"] = "********" if self.secret_key.get_secret_value() else ""
        data["data_key"] = "********" if self.data_key.get_secret_value() else ""
        data["database_url"] = self.redacted_database_url()
        data["metrics_token"] = "********" if self.metrics_token.get_secret_value() else ""
        data["database_replicas"] = [
            make_url(url).render_as_string(hide_password=True) for url in self.database_replicas
        ]
        data["data_dir"] = str(self.data_dir)
        return data

    def __repr__(self) -> str:
        return f"Settings({self.public_dict()!r})"


def resolve_secret_key(settings: Settings) -> str:
    """The configured secret key, or (embedded default) one kept in ``data_dir/secret_key``.

    Several workers must share one key: set ``SHEQUYUN_SECRET_KEY`` in production.
    """
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first; use theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build :class:`Settings` from defaults, the TOML file, the environment and ``overrides``."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        values.update(_read_toml(Path(path), environ))
    values.update(_read_environ(environ))
    values.update(overrides)
    try:
        return Settings(**values)
    except Exception as exc:
        raise SettingsError(_explain(exc)) from None


def _read_toml(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    section = raw.get("shequyun", raw)
    resolved = {key: _resolve_env_refs(v, environ, path, key) for key, v in section.items()}
    values = {k: v for k, v in resolved.items() if k != "plugins"}
    plugins = resolved.get("plugins", {})
    values["plugin_settings"] = {name: dict(conf) for name, conf in plugins.items()}
    return values


def _resolve_env_refs(value: Any, environ: Mapping[str, str], path: Path, where: str) -> Any:
    """``value`` with every ``"$env:NAME"`` read from the environment; ``where`` names the
    setting as the file writes it (``database_replicas``, ``plugins.garbage.api_key``)."""
    if isinstance(value, dict):
        return {k: _resolve_env_refs(v, environ, path, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env_refs(v, environ, path, where) for v in value]
    if isinstance(value, str) and value.startswith("$env:"):
        name = value[5:]
        if name not in environ:
            # An operator who copied an example file needs the setting and the file to fix.
            raise SettingsError(
                f"{where} in {path} refers to environment variable {name}, which is not set "
                f"(set it, or remove {where} from the file)"
            )
        if not environ[name]:
            # An empty secret_key fell back to a key generated per machine (so the workers of
            # two machines refused each other's forms), an empty URL to SQLite in data_dir.
            raise SettingsError(
                f"{where} in {path} refers to environment variable {name}, which is empty "
                f"(give it the value, or remove {where} from the file)"
            )
        return environ[name]
    return value


def _read_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field_name, field in Settings.model_fields.items():
        key = ENV_PREFIX + field_name.upper()
        if key not in environ or field_name == "plugin_settings":
            continue
        raw = environ[key]
        if field_name in _LIST_FIELDS:
            values[field_name] = tuple(p.strip() for p in raw.split(",") if p.strip())
        elif field.annotation is bool:
            lowered = raw.strip().lower()
            if lowered not in _BOOL_TRUE | _BOOL_FALSE:
                raise SettingsError(f"{key} must be true or false, not {raw!r}")
            values[field_name] = lowered in _BOOL_TRUE
        else:
            values[field_name] = raw
    return values


def _explain(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    parts = []
    for error in errors():
        where = ".".join(str(p) for p in error["loc"])
        # Never echo the offending value: it may be a secret.
        said = str(error["msg"]).removeprefix("Value error, ")  # pydantic's, of our checks
        parts.append(f"{where}: {said}" if where else said)
    return "invalid settings: " + "; ".join(parts)
