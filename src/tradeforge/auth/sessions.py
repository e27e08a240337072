"""``SessionManager``: login sessions, their rotating refresh tokens, and the per-request check.

A session is one login on one device and one refresh-token family (RFC 9700 §4.14):

- every refresh marks the presented refresh token used with a compare-and-set
  (``UPDATE ... WHERE used_ns IS NULL``) and returns a new pair; of two parallel refreshes with
  one token exactly one wins;
- a refresh token presented again after it was used (a replay, or the loser of such a race)
  revokes the whole session: every access and refresh token of the family stops working. Clients
  must therefore refresh one at a time (the web UI keeps a single in-flight refresh);
- a session ends at ``session_max_age_s`` after login whatever the refreshes.

Access tokens carry the session id (``sid``). :meth:`SessionManager.authenticate` checks the
session and its user on every request (one primary-key read joining ``auth_sessions`` and
``users``), so a revoked session, a disabled user or a changed role takes effect at the next
request. ``session_cache_ttl_s`` > 0 trusts a checked session for that long instead; a
revocation made through this process is still seen at once (the cache entry is dropped), one
made by another process after at most the TTL.
"""

from __future__ import annotations

import threading

import msgspec

from tradeforge.auth.audit import AuditAction, Outcome
from tradeforge.auth.config import AuthConfig
from tradeforge.auth.errors import AuthenticationFailed, NotFound
from tradeforge.auth.principal import AuthMethod, Principal, RequestContext
from tradeforge.auth.records import SessionRecord, UserRecord, new_id
from tradeforge.auth.repository import AuthRepository, Tx
from tradeforge.auth.roles import permissions_of
from tradeforge.auth.tokens import TokenCodec, TokenType
from tradeforge.bus import Clock

__all__ = ["SessionInfo", "SessionManager", "TokenPair"]

_NS = 1_000_000_000
_CACHE_MAX = 10_000


class TokenPair(msgspec.Struct, frozen=True, kw_only=True):
    """What a login or a refresh returns (OAuth 2.0 token response fields)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_expires_in: int
    session_id: str

    def __repr__(self) -> str:
        return f"TokenPair(session_id={self.session_id!r}, access_token='***', ...)"


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One session as a user or an admin sees it."""

    id: str
    user_id: str
    created_ns: int
    last_seen_ns: int
    expires_ns: int
    ip: str | None
    user_agent: str | None
    revoked_ns: int | None
    revoked_reason: str | None


def _active(session: SessionRecord, user: UserRecord, now: int) -> bool:
    return session.revoked_ns is None and now < session.expires_ns and not user.disabled


class SessionManager:
    """Opens, refreshes, checks and revokes sessions."""

    def __init__(
        self, *, repository: AuthRepository, codec: TokenCodec, clock: Clock, config: AuthConfig
    ) -> None:
        self._repo = repository
        self._codec = codec
        self._clock = clock
        self._config = config
        self._cache: dict[str, tuple[int, SessionRecord, UserRecord]] = {}
        self._lock = threading.Lock()

    def open(self, tx: Tx, user: UserRecord, ctx: RequestContext, now: int) -> TokenPair:
        """Start a session for ``user`` inside the login transaction."""
        session = SessionRecord(
            id=new_id("s"),
            user_id=user.id,
            created_ns=now,
            last_seen_ns=now,
            expires_ns=now + self._config.session_max_age_s * _NS,
            ip=ctx.ip,
            user_agent=ctx.user_agent[:256] if ctx.user_agent else None,
            revoked_ns=None,
            revoked_reason=None,
        )
        tx.insert_session(session)
        return self._issue(tx, user.id, session, parent=None, now=now)

    def _issue(
        self, tx: Tx, user_id: str, session: SessionRecord, *, parent: str | None, now: int
    ) -> TokenPair:
        config = self._config
        refresh_ttl = min(config.refresh_ttl_s, (session.expires_ns - now) // _NS)
        access = self._codec.issue(
            TokenType.ACCESS, subject=user_id, session_id=session.id, ttl_s=config.access_ttl_s
        )
        refresh = self._codec.issue(
            TokenType.REFRESH, subject=user_id, session_id=session.id, ttl_s=refresh_ttl
        )
        tx.insert_refresh(refresh.jti, session.id, parent, now, now + refresh_ttl * _NS)
        return TokenPair(
            access_token=self._codec.encode(access),
            refresh_token=self._codec.encode(refresh),
            expires_in=config.access_ttl_s,
            refresh_expires_in=refresh_ttl,
            session_id=session.id,
        )

    def refresh(self, token: str, ctx: RequestContext) -> TokenPair:
        """Rotate: a new pair for a valid, unused refresh token.

        Raises:
            AuthenticationFailed: ``TOKEN_INVALID``/``TOKEN_EXPIRED`` (see ``TokenCodec``),
                ``TOKEN_REUSED`` (the token was used before: its session is now revoked),
                ``SESSION_REVOKED`` (the session ended or the user is disabled).
        """
        claims = self._codec.verify(token, TokenType.REFRESH)
        now = self._clock.timestamp_ns()
        pair: TokenPair | None = None
        reused = False
        with self._repo.write() as tx:
            if tx.use_refresh(claims.jti, claims.sid, now):
                found = tx.session_with_user(claims.sid)
                if found is not None and found[0].user_id == claims.sub and _active(*found, now):
                    pair = self._issue(tx, claims.sub, found[0], parent=claims.jti, now=now)
                    tx.touch_session(claims.sid, now, ctx.ip)
                    tx.record(now, ctx, claims.sub, AuditAction.TOKEN_REFRESHED, claims.sid)
            elif tx.refresh_known(claims.jti, claims.sid):
                reused = True
                tx.revoke_sessions(now, "refresh_token_reuse", session_id=claims.sid)
                tx.record(
                    now, ctx, claims.sub, AuditAction.TOKEN_REUSE_DETECTED, claims.sid,
                    outcome=Outcome.REFUSED, jti=claims.jti,
                )  # fmt: skip
        if reused:
            self.forget(claims.sid)
            raise AuthenticationFailed(
                "refresh token used twice: the session is revoked", code="TOKEN_REUSED"
            )
        if pair is None:
            raise AuthenticationFailed("session ended", code="SESSION_REVOKED")
        return pair

    def authenticate(self, token: str) -> Principal:
        """The Principal of an access token whose session is live.

        Raises:
            AuthenticationFailed: a bad token (``TokenCodec.verify``), or ``SESSION_REVOKED``.
        """
        claims = self._codec.verify(token, TokenType.ACCESS)
        now = self._clock.timestamp_ns()
        found = self._cached(claims.sid, now)
        if found is None:
            with self._repo.read() as tx:
                found = tx.session_with_user(claims.sid)
            if found is not None and self._config.session_cache_ttl_s > 0:
                self._remember(claims.sid, now, found)
        if found is None or found[0].user_id != claims.sub or not _active(*found, now):
            self.forget(claims.sid)
            raise AuthenticationFailed("session ended", code="SESSION_REVOKED")
        user = found[1]
        return Principal(
            user_id=user.id,
            username=user.username,
            role=user.role,
            method=AuthMethod.SESSION,
            permissions=permissions_of(user.role),
            session_id=claims.sid,
        )

    def _cached(self, session_id: str, now: int) -> tuple[SessionRecord, UserRecord] | None:
        ttl_ns = int(self._config.session_cache_ttl_s * _NS)
        if ttl_ns == 0:
            return None
        with self._lock:
            entry = self._cache.get(session_id)
        if entry is None or now - entry[0] >= ttl_ns:
            return None
        return entry[1], entry[2]

    def _remember(self, session_id: str, now: int, found: tuple[SessionRecord, UserRecord]) -> None:
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[session_id] = (now, *found)

    def forget(self, *session_ids: str, user_id: str | None = None) -> None:
        """Drop cached checks of these sessions (or of every session of ``user_id``)."""
        with self._lock:
            for session_id in session_ids:
                self._cache.pop(session_id, None)
            if user_id is not None:
                for key in [k for k, v in self._cache.items() if v[1].user_id == user_id]:
                    del self._cache[key]

    def sessions_of(self, user_id: str, *, include_ended: bool = False) -> list[SessionInfo]:
        """The sessions of ``user_id``, newest first (live ones only unless asked)."""
        now = self._clock.timestamp_ns()
        with self._repo.read() as tx:
            rows = tx.sessions_of(user_id, active_at=None if include_ended else now)
        return [SessionInfo(**msgspec.structs.asdict(r)) for r in rows]

    def revoke(
        self,
        session_id: str,
        *,
        owner_id: str | None,
        reason: str,
        actor: str,
        ctx: RequestContext,
    ) -> None:
        """End one session (of ``owner_id`` when given: another user's is NotFound)."""
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            found = tx.session_with_user(session_id)
            if found is None or (owner_id is not None and found[0].user_id != owner_id):
                raise NotFound("no such session")
            tx.revoke_sessions(now, reason, session_id=session_id)
            action = AuditAction.LOGOUT if reason == "logout" else AuditAction.SESSION_REVOKED
            tx.record(now, ctx, actor, action, session_id, owner=found[0].user_id, reason=reason)
        self.forget(session_id)

    @staticmethod
    def revoke_all(
        tx: Tx, user_id: str, *, reason: str, now: int, keep: str | None = None
    ) -> list[str]:
        """End every live session of ``user_id`` but ``keep``, inside the caller's transaction.

        The caller calls :meth:`forget` with the ids once the transaction has committed.
        """
        return tx.revoke_sessions(now, reason, user_id=user_id, keep=keep)
