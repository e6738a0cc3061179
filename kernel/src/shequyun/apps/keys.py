"""The keys that sign ID tokens, with rotation.

The newest unretired key signs. Rotating adds a new key and retires the old one, which stays
in the JWKS for :data:`RETIRED_PUBLISHED` so tokens it signed still verify until they expire.
Private keys are stored encrypted with the data key.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..residents.crypto import FieldCipher
from .models import SigningKey, aware

__all__ = ["KeyStore"]

#: How long a retired key stays published (longer than any ID token lives).
RETIRED_PUBLISHED = timedelta(days=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


class KeyStore:
    """Reads, creates and rotates the signing keys."""

    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self.engine = engine
        self.cipher = cipher
        self._cache: tuple[str, RSAKey] | None = None

    def signing_key(self) -> RSAKey:
        """The key that signs now (made on first use)."""
        with Session(self.engine) as session:
            row = session.exec(
                select(SigningKey)
                .where(col(SigningKey.retired_at).is_(None))
                .order_by(col(SigningKey.created_at).desc())
            ).first()
            if row is None:
                row = self._create(session)
                session.commit()
            if self._cache is not None and self._cache[0] == row.kid:
                return self._cache[1]
            key = RSAKey.import_key(
                self.cipher.decrypt(row.private_pem), parameters={"kid": row.kid}
            )
        self._cache = (row.kid, key)
        return key

    def jwks(self) -> dict[str, Any]:
        """The public keys a client may meet in a token: the signing one and the recently
        retired ones."""
        self.signing_key()
        since = utcnow() - RETIRED_PUBLISHED
        with Session(self.engine) as session:
            rows = session.exec(select(SigningKey).order_by(col(SigningKey.created_at).desc()))
            keys = [
                row.public_jwk
                for row in rows
                if row.retired_at is None or aware(row.retired_at) > since
            ]
        return {"keys": keys}

    def rotate(self) -> str:
        """Make a new signing key and retire the others; return the new key's id."""
        with Session(self.engine) as session:
            for row in session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))):
                row.retired_at = utcnow()
                session.add(row)
            new = self._create(session)
            session.commit()
            return new.kid

    def _create(self, session: Session) -> SigningKey:
        kid = f"k{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
        key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
        pem = key.as_pem(private=True).decode()
        public = key.as_dict(private=False)
        row = SigningKey(kid=kid, private_pem=self.cipher.encrypt(pem), public_jwk=public)
        session.add(row)
        session.flush()
        return row
