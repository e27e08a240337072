"""``SecretsBox``: envelope encryption of secrets at rest with AES-256-GCM.

Every secret gets its own random 256-bit data key; the data key encrypts the secret once, and
the key-encryption key (KEK, from ``TRADEFORGE__AUTH__SECRET_KEY`` or its key file, never in
the database) wraps the data key. Each encryption uses a fresh random 96-bit nonce; a data key
is used once, so its nonce can never repeat, and the KEK does one wrap per sealed secret (NIST
SP 800-38D §8.3 bounds random nonces to 2^32 uses per key: rotate the KEK long before).

Both layers authenticate the caller's associated data (for exchange credentials: user id,
venue and credential id), so a ciphertext moved to another row (another user, venue or key)
fails to open: :class:`~tradeforge.auth.errors.SecretUnreadable`.

A sealed blob (version 1)::

    0x01 | kek id (8) | wrap nonce (12) | wrapped data key (32 + 16 tag) | data nonce (12) |
    ciphertext (+ 16 tag)

KEK rotation: build the box with the new KEK as current and the old ones as ``previous``;
:meth:`rewrap` re-wraps a data key under the current KEK without touching the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradeforge.auth.errors import SecretUnreadable
from tradeforge.domain.errors import ConfigurationError

__all__ = ["NONCE_BYTES", "SecretsBox", "kek_id"]

NONCE_BYTES = 12
_VERSION = b"\x01"
_ID_BYTES = 8
_DEK_BYTES = 32
_TAG_BYTES = 16
_WRAPPED = _DEK_BYTES + _TAG_BYTES
_HEADER = 1 + _ID_BYTES + NONCE_BYTES + _WRAPPED + NONCE_BYTES


def kek_id(kek: bytes) -> str:
    """A short public fingerprint of a key-encryption key (hex), stored beside each row."""
    return hmac.new(kek, b"tradeforge-kek-id", hashlib.sha256).digest()[:_ID_BYTES].hex()


class SecretsBox:
    """Seals and opens secrets under a current KEK, still opening those of previous KEKs."""

    def __init__(self, kek: bytes, previous: Sequence[bytes] = ()) -> None:
        for key in (kek, *previous):
            if len(key) != _DEK_BYTES:
                raise ConfigurationError(
                    f"TRADEFORGE__AUTH__SECRET_KEY: the key-encryption key must be 32 bytes "
                    f"(AES-256), got {len(key)}"
                )
        self.current_id = kek_id(kek)
        self._keks = {kek_id(key): AESGCM(key) for key in (*previous, kek)}

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """``plaintext`` encrypted under a new data key, bound to ``aad``."""
        data_key = AESGCM.generate_key(bit_length=256)
        data_nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(data_nonce, plaintext, b"tf-data\x00" + aad)
        return self._wrap(data_key, aad) + data_nonce + ciphertext

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """The plaintext of ``blob`` sealed with the same ``aad``.

        Raises:
            SecretUnreadable: malformed, tampered, moved to other ``aad``, or unknown KEK.
        """
        data_key = self._unwrap(blob, aad)
        data_nonce = blob[_HEADER - NONCE_BYTES : _HEADER]
        try:
            return AESGCM(data_key).decrypt(data_nonce, blob[_HEADER:], b"tf-data\x00" + aad)
        except InvalidTag:
            raise SecretUnreadable("sealed secret does not decrypt (tampered or moved)") from None

    def rewrap(self, blob: bytes, aad: bytes) -> bytes:
        """``blob`` with its data key wrapped by the current KEK (the ciphertext is unchanged)."""
        data_key = self._unwrap(blob, aad)
        return self._wrap(data_key, aad) + blob[_HEADER - NONCE_BYTES :]

    @staticmethod
    def sealed_by(blob: bytes) -> str:
        """The id of the KEK that wrapped ``blob``."""
        return blob[1 : 1 + _ID_BYTES].hex()

    @staticmethod
    def nonces(blob: bytes) -> tuple[bytes, bytes]:
        """The (wrap, data) nonces of ``blob``, for audits of nonce uniqueness."""
        wrap_at = 1 + _ID_BYTES
        return blob[wrap_at : wrap_at + NONCE_BYTES], blob[_HEADER - NONCE_BYTES : _HEADER]

    def _wrap(self, data_key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        wrapped = self._keks[self.current_id].encrypt(nonce, data_key, b"tf-dek\x00" + aad)
        return _VERSION + bytes.fromhex(self.current_id) + nonce + wrapped

    def _unwrap(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < _HEADER + _TAG_BYTES or blob[:1] != _VERSION:
            raise SecretUnreadable("sealed secret is malformed")
        kek = self._keks.get(self.sealed_by(blob))
        if kek is None:
            raise SecretUnreadable(
                f"sealed secret uses key-encryption key {self.sealed_by(blob)}, which is not "
                "configured (TRADEFORGE__AUTH__SECRET_KEY / PREVIOUS_SECRET_KEYS)"
            )
        wrap_at = 1 + _ID_BYTES
        nonce = blob[wrap_at : wrap_at + NONCE_BYTES]
        wrapped = blob[wrap_at + NONCE_BYTES : wrap_at + NONCE_BYTES + _WRAPPED]
        try:
            return kek.decrypt(nonce, wrapped, b"tf-dek\x00" + aad)
        except InvalidTag:
            raise SecretUnreadable("sealed secret does not decrypt (tampered or moved)") from None
