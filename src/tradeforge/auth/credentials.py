"""``CredentialVault``: users' exchange API credentials, sealed at rest (SEC-14).

Each credential (API key, secret, optional passphrase) is sealed by the secrets box with the
associated data ``(user id, venue, credential id)``: moving a ciphertext to another row fails
to open. Listing shows a hint of the API key only. The plaintext leaves the vault through
:meth:`CredentialVault.reveal` alone, which the connector wiring calls when it builds a venue
client; every reveal is audited. No route of the gateway should ever call it.
"""

from __future__ import annotations

import json
import re

import msgspec

from tradeforge.auth.audit import AuditAction
from tradeforge.auth.errors import InvalidInput, NotFound
from tradeforge.auth.principal import RequestContext
from tradeforge.auth.records import CredentialRecord, new_id
from tradeforge.auth.repository import AuthRepository
from tradeforge.auth.secrets_box import SecretsBox
from tradeforge.bus import Clock

__all__ = ["CredentialInfo", "CredentialVault", "ExchangeCredential"]

_VENUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class CredentialInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown about a stored credential."""

    id: str
    user_id: str
    venue: str
    label: str
    key_hint: str
    created_ns: int
    updated_ns: int


class ExchangeCredential(msgspec.Struct, frozen=True, kw_only=True):
    """A credential in plaintext, for the connector wiring only (its repr hides the secrets)."""

    credential_id: str
    user_id: str
    venue: str
    api_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:
        return (
            f"ExchangeCredential(credential_id={self.credential_id!r}, venue={self.venue!r}, "
            "api_key='***', secret='***')"
        )


def _aad(user_id: str, venue: str, credential_id: str) -> bytes:
    return f"exchange\x1f{user_id}\x1f{venue}\x1f{credential_id}".encode()


def _info(row: CredentialRecord) -> CredentialInfo:
    return CredentialInfo(
        id=row.id,
        user_id=row.user_id,
        venue=row.venue,
        label=row.label,
        key_hint=row.key_hint,
        created_ns=row.created_ns,
        updated_ns=row.updated_ns,
    )


class CredentialVault:
    """Stores, lists, deletes and (for the connector wiring) reveals exchange credentials."""

    def __init__(self, *, repository: AuthRepository, box: SecretsBox, clock: Clock) -> None:
        self._repo = repository
        self._box = box
        self._clock = clock

    def store(
        self,
        user_id: str,
        *,
        venue: str,
        label: str,
        api_key: str,
        secret: str,
        passphrase: str | None,
        actor: str,
        ctx: RequestContext,
    ) -> CredentialInfo:
        """Seal and keep a credential; returns its description (never the secret)."""
        if not _VENUE.fullmatch(venue):
            raise InvalidInput("venue", "1 to 64 letters, digits, '_', '.' or '-'")
        label = label.strip()
        if not 0 < len(label) <= 100:
            raise InvalidInput("label", "1 to 100 characters")
        if not api_key or not secret:
            raise InvalidInput("secret", "the API key and the secret are both required")
        now = self._clock.timestamp_ns()
        credential_id = new_id("c")
        plaintext = json.dumps({"api_key": api_key, "secret": secret, "passphrase": passphrase})
        row = CredentialRecord(
            id=credential_id,
            user_id=user_id,
            venue=venue,
            label=label,
            key_hint=f"...{api_key[-4:]}" if len(api_key) >= 12 else "...",
            sealed=self._box.seal(plaintext.encode(), _aad(user_id, venue, credential_id)),
            kek_id=self._box.current_id,
            created_ns=now,
            updated_ns=now,
        )
        with self._repo.write() as tx:
            tx.insert_credential(row)
            tx.record(now, ctx, actor, AuditAction.CREDENTIAL_STORED, credential_id, venue=venue)
        return _info(row)

    def credentials_of(self, user_id: str) -> list[CredentialInfo]:
        """The credentials of ``user_id`` (descriptions only)."""
        with self._repo.read() as tx:
            return [_info(r) for r in tx.credentials(user_id=user_id)]

    def delete(
        self, credential_id: str, *, owner_id: str | None, actor: str, ctx: RequestContext
    ) -> None:
        """Delete a credential (of ``owner_id`` when given: another user's is NotFound)."""
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            row = tx.credential(credential_id)
            if row is None or (owner_id is not None and row.user_id != owner_id):
                raise NotFound("no such credential")
            tx.delete_credential(credential_id)
            tx.record(
                now, ctx, actor, AuditAction.CREDENTIAL_DELETED, credential_id, venue=row.venue
            )

    def reveal(
        self, credential_id: str, *, user_id: str, purpose: str, ctx: RequestContext
    ) -> ExchangeCredential:
        """The plaintext credential of ``user_id``, for building a venue client (audited).

        Raises:
            NotFound: no such credential for this user.
            SecretUnreadable: the sealed row was tampered with or moved, or its KEK is gone.
        """
        with self._repo.read() as tx:
            row = tx.credential(credential_id)
        if row is None or row.user_id != user_id:
            raise NotFound("no such credential")
        plaintext = self._box.open(row.sealed, _aad(row.user_id, row.venue, row.id))
        values = json.loads(plaintext)
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            tx.record(
                now, ctx, "system", AuditAction.CREDENTIAL_REVEALED, credential_id,
                owner=user_id, venue=row.venue, purpose=purpose,
            )  # fmt: skip
        return ExchangeCredential(
            credential_id=row.id,
            user_id=row.user_id,
            venue=row.venue,
            api_key=values["api_key"],
            secret=values["secret"],
            passphrase=values["passphrase"],
        )

    def reseal_all(self) -> int:
        """Re-wrap every credential under the current KEK; how many rows changed."""
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            stale = tx.credentials(not_kek=self._box.current_id)
            for row in stale:
                blob = self._box.rewrap(row.sealed, _aad(row.user_id, row.venue, row.id))
                tx.reseal_credential(row.id, blob, self._box.current_id, now)
        return len(stale)
