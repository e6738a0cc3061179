"""The hello plugin's table. Table names start with the plugin's name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Message(SQLModel, table=True):
    __tablename__ = "hello_message"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=_now)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "created_at": self.created_at.isoformat()}
