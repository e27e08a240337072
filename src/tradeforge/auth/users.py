"""``UserManager``: accounts, the password policy, and login.

User names are normalised (NFKC, case-folded) and limited to ``[a-z0-9._@-]``, 3 to 64
characters. Passwords follow NIST SP 800-63B §3.1.1.2: a length floor (``min_password_length``)
and ceiling, no composition rules, Unicode NFKC-normalised before hashing, refused when they
contain the user name or are a well-known password.

Login (:meth:`UserManager.login`): the throttle is charged first (a refused attempt verifies
nothing); the password is verified outside any transaction (argon2 takes ~100 ms); an unknown
name runs a dummy verification and the same writes, so it cannot be told from a wrong password
by its answer or its timing. A hash made with older parameters is replaced on success.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

import msgspec

from tradeforge.auth.audit import ANONYMOUS, AuditAction, Outcome
from tradeforge.auth.config import AuthConfig
from tradeforge.auth.errors import (
    AccountLocked,
    AuthenticationFailed,
    InvalidInput,
    LoginThrottled,
    NotFound,
)
from tradeforge.auth.passwords import PasswordHasher
from tradeforge.auth.principal import RequestContext
from tradeforge.auth.records import UserRecord, new_id
from tradeforge.auth.repository import AuthRepository
from tradeforge.auth.roles import Role
from tradeforge.auth.sessions import SessionManager, TokenPair
from tradeforge.auth.throttle import Admission, LoginThrottle, Verdict
from tradeforge.bus import Clock

__all__ = ["UserInfo", "UserManager", "check_password", "normalise_username"]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "123456789012",
        "qwertyuiop",
        "letmein",
        "iloveyou",
        "administrator",
        "welcome123",
        "changethis",
        "changeme",
        "tradeforge",
    }
)
_FAILED = "invalid user name or password"


class UserInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown about a user (never the hash)."""

    id: str
    username: str
    role: Role
    disabled: bool
    created_ns: int
    updated_ns: int
    password_changed_ns: int


def _info(user: UserRecord) -> UserInfo:
    values = msgspec.structs.asdict(user)
    del values["password_hash"]
    return UserInfo(**values)


def normalise_username(username: str) -> str:
    """The form a user name is stored and throttled under (never raises; at most 128 chars)."""
    return unicodedata.normalize("NFKC", username).casefold().strip()[:128]


def _password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, username: str, config: AuthConfig) -> None:
    """Refuse a password the policy does not allow (InvalidInput naming ``password``)."""
    if not config.min_password_length <= len(password) <= config.max_password_length:
        raise InvalidInput(
            "password",
            f"{config.min_password_length} to {config.max_password_length} characters",
        )
    folded = password.casefold()
    if username and username in folded:
        raise InvalidInput("password", "must not contain the user name")
    if folded in _COMMON or len(set(folded)) < 3:
        raise InvalidInput("password", "too common; choose a longer passphrase")


class UserManager:
    """Accounts and login."""

    def __init__(
        self,
        *,
        repository: AuthRepository,
        hasher: PasswordHasher,
        sessions: SessionManager,
        throttle: LoginThrottle,
        clock: Clock,
        config: AuthConfig,
    ) -> None:
        self._repo = repository
        self._hasher = hasher
        self._sessions = sessions
        self._throttle = throttle
        self._clock = clock
        self._config = config

    # ------------------------------------------------------------------------------ login
    def login(self, username: str, password: str, ctx: RequestContext) -> TokenPair:
        """A new session for a right user name and password.

        Raises:
            AuthenticationFailed: wrong name or password (one message for both).
            LoginThrottled: back-off running or too many failures from the IP (429).
            AccountLocked: the name is locked until an admin unlocks it (423).
        """
        name = normalise_username(username)
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            admission = self._throttle.admit(tx, name, ctx.ip, now)
            if admission.verdict is not Verdict.ADMITTED:
                tx.record(
                    now, ctx, ANONYMOUS, AuditAction.LOGIN_THROTTLED, name,
                    outcome=Outcome.REFUSED, reason=admission.verdict.value,
                    failures=str(admission.failures),
                )  # fmt: skip
        _raise_refused(admission)
        assert admission.attempt_id is not None
        with self._repo.read() as tx:
            user = tx.user_by_name(name)
        if user is None:
            self._hasher.verify_dummy(_password(password))
            verified = False
        else:
            verified = self._hasher.verify(user.password_hash, _password(password))
        if user is None or not verified or user.disabled:
            why = "unknown_user" if user is None else "disabled" if verified else "bad_password"
            self._fail(name, user, admission, ctx, why)
            raise AuthenticationFailed(_FAILED)
        rehash = None
        if self._hasher.needs_rehash(user.password_hash):
            rehash = self._hasher.hash(_password(password))
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            self._throttle.succeeded(tx, name, admission.attempt_id)
            if rehash is not None:
                tx.update_user(user.id, now, password_hash=rehash)
                tx.record(now, ctx, user.id, AuditAction.PASSWORD_REHASHED, user.id)
            pair = self._sessions.open(tx, user, ctx, now)
            tx.record(
                now, ctx, user.id, AuditAction.LOGIN_SUCCEEDED, pair.session_id,
                user_agent=(ctx.user_agent or "")[:256],
            )  # fmt: skip
        return pair

    def _fail(
        self,
        name: str,
        user: UserRecord | None,
        admission: Admission,
        ctx: RequestContext,
        why: str,
    ) -> None:
        now = self._clock.timestamp_ns()
        actor = user.id if user is not None else ANONYMOUS
        with self._repo.write() as tx:
            tx.record(
                now, ctx, actor, AuditAction.LOGIN_FAILED, name, outcome=Outcome.FAILED,
                reason=why, failures=str(admission.failures),
            )  # fmt: skip
            if admission.locks:
                tx.record(
                    now, ctx, actor, AuditAction.ACCOUNT_LOCKED, name, outcome=Outcome.REFUSED,
                    failures=str(admission.failures),
                )  # fmt: skip

    def unlock(self, username: str, *, actor: str, ctx: RequestContext) -> bool:
        """Clear a name's failures and lock (admin); whether there was anything to clear."""
        name = normalise_username(username)
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            cleared = self._throttle.unlock(tx, name)
            tx.record(now, ctx, actor, AuditAction.ACCOUNT_UNLOCKED, name, cleared=str(cleared))
        return cleared

    def locked(self) -> list[str]:
        """The names locked until an admin unlocks them."""
        with self._repo.read() as tx:
            return tx.locked_usernames()

    # ----------------------------------------------------------------------------- users
    def create(
        self, username: str, password: str, role: Role, *, actor: str, ctx: RequestContext
    ) -> UserInfo:
        """A new user (Conflict when the name is taken)."""
        name = normalise_username(username)
        if not _USERNAME.fullmatch(name):
            raise InvalidInput("username", "3 to 64 of a-z, 0-9, '.', '_', '@', '-'")
        check_password(_password(password), name, self._config)
        password_hash = self._hasher.hash(_password(password))
        now = self._clock.timestamp_ns()
        user = UserRecord(
            id=new_id("u"),
            username=name,
            password_hash=password_hash,
            role=Role(role),
            disabled=False,
            created_ns=now,
            updated_ns=now,
            password_changed_ns=now,
        )
        with self._repo.write() as tx:
            tx.insert_user(user)
            tx.record(
                now, ctx, actor, AuditAction.USER_CREATED, user.id,
                username=name, role=user.role.value,
            )  # fmt: skip
        return _info(user)

    def register(self, username: str, password: str, ctx: RequestContext) -> UserInfo:
        """A ``viewer`` account made by its owner (the service checks registration is open).

        Every attempt, made or refused, is charged like a failed login to the client address
        (throttle key ``register:<ip>``, and the address's failure count), so one address gets
        a few accounts, then the login back-off (429), and counts towards its per-minute cap on
        failed logins.
        """
        key = f"register:{ctx.ip or 'unknown'}"
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            admission = self._throttle.admit(tx, key, ctx.ip, now)
            if admission.verdict is not Verdict.ADMITTED:
                tx.record(
                    now, ctx, ANONYMOUS, AuditAction.REGISTRATION_THROTTLED, key,
                    outcome=Outcome.REFUSED, reason=admission.verdict.value,
                )  # fmt: skip
        if admission.verdict is not Verdict.ADMITTED:
            raise LoginThrottled(
                "too many registrations from this address: try again later",
                retry_after=admission.retry_after_s or float(self._config.backoff_first_s),
            )
        return self.create(username, password, Role.VIEWER, actor=ANONYMOUS, ctx=ctx)

    def ensure_admin(
        self, username: str, password: str | None, ctx: RequestContext
    ) -> tuple[UserInfo, str | None] | None:
        """On first start (no users yet) create an admin; None when users exist.

        Returns the admin and the generated password when none was given (show it once).
        """
        with self._repo.read() as tx:
            if tx.count_users() > 0:
                return None
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(18)
        info = self.create(username, password, Role.ADMIN, actor="system", ctx=ctx)
        return info, generated

    def record(self, user_id: str) -> UserRecord:
        """The stored user (NotFound when there is none)."""
        with self._repo.read() as tx:
            user = tx.user_by_id(user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    def get(self, user_id: str) -> UserInfo:
        """One user (NotFound when there is none)."""
        return _info(self.record(user_id))

    def all(self) -> list[UserInfo]:
        """Every user, oldest first."""
        with self._repo.read() as tx:
            return [_info(u) for u in tx.users()]

    def set_role(self, user_id: str, role: Role, *, actor: str, ctx: RequestContext) -> UserInfo:
        """Change a user's role; it applies from their next request."""
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            before = tx.user_by_id(user_id)
            if before is None:
                raise NotFound("no such user")
            tx.update_user(user_id, now, role=Role(role).value)
            tx.record(
                now, ctx, actor, AuditAction.USER_ROLE_CHANGED, user_id,
                before=before.role.value, after=Role(role).value,
            )  # fmt: skip
        self._sessions.forget(user_id=user_id)
        return self.get(user_id)

    def set_disabled(
        self, user_id: str, disabled: bool, *, actor: str, ctx: RequestContext
    ) -> UserInfo:
        """Disable (ending every session; keys stop working) or re-enable a user."""
        now = self._clock.timestamp_ns()
        ended: list[str] = []
        with self._repo.write() as tx:
            if not tx.update_user(user_id, now, disabled=disabled):
                raise NotFound("no such user")
            if disabled:
                ended = SessionManager.revoke_all(tx, user_id, reason="user_disabled", now=now)
            action = AuditAction.USER_DISABLED if disabled else AuditAction.USER_ENABLED
            tx.record(now, ctx, actor, action, user_id, sessions_ended=str(len(ended)))
        self._sessions.forget(*ended, user_id=user_id)
        return self.get(user_id)

    def change_password(
        self,
        user_id: str,
        old: str,
        new: str,
        *,
        keep_session: str | None,
        ctx: RequestContext,
    ) -> None:
        """Change one's own password (the old one is checked, throttled like a login); every
        other session ends."""
        user = self.record(user_id)
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            admission = self._throttle.admit(tx, user.username, ctx.ip, now)
        _raise_refused(admission)
        assert admission.attempt_id is not None
        if not self._hasher.verify(user.password_hash, _password(old)):
            self._fail(user.username, user, admission, ctx, "bad_password")
            raise AuthenticationFailed("the current password is wrong")
        with self._repo.write() as tx:
            self._throttle.succeeded(tx, user.username, admission.attempt_id)
        self._set_password(user, new, keep_session, actor=user.id, ctx=ctx)

    def reset_password(self, user_id: str, new: str, *, actor: str, ctx: RequestContext) -> None:
        """Set a user's password (admin); every session of theirs ends."""
        self._set_password(self.record(user_id), new, None, actor=actor, ctx=ctx)

    def _set_password(
        self,
        user: UserRecord,
        new: str,
        keep_session: str | None,
        *,
        actor: str,
        ctx: RequestContext,
    ) -> None:
        check_password(_password(new), user.username, self._config)
        password_hash = self._hasher.hash(_password(new))
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            tx.set_password_hash(user.id, password_hash, now)
            ended = SessionManager.revoke_all(
                tx, user.id, reason="password_changed", now=now, keep=keep_session
            )
            tx.record(
                now, ctx, actor, AuditAction.PASSWORD_CHANGED, user.id,
                sessions_ended=str(len(ended)),
            )  # fmt: skip
        self._sessions.forget(*ended, user_id=user.id)


def _raise_refused(admission: Admission) -> None:
    if admission.verdict is Verdict.LOCKED:
        raise AccountLocked("too many failed attempts: ask an administrator to unlock")
    if admission.verdict is not Verdict.ADMITTED:
        raise LoginThrottled(
            "too many failed attempts: try again later",
            retry_after=admission.retry_after_s or 1.0,
        )
