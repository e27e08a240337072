"""``AuthService``: the one facade the gateway (and ``runtime``) calls; no HTTP in it.

It wires the parts (passwords, tokens, sessions, throttle, API keys, request signing, secrets
box, credentials, audit) from an :class:`~tradeforge.auth.config.AuthConfig`, a
``Database`` and a ``Clock``, and checks permissions for every operation that acts for a
caller: a caller acting on another user's object gets ``NotFound`` unless it holds
``users:admin`` (so ids of others cannot be probed), and a missing permission is
``Forbidden`` and audited.

Everything is synchronous (SQLAlchemy and argon2 block): an async gateway runs these calls in
a thread pool (``anyio.to_thread.run_sync``); argon2 concurrency is capped inside.

Start-up refuses a missing, default, short or patterned ``jwt_secret`` or ``secret_key``
(``ConfigurationError``), and the same value for both.
"""

from __future__ import annotations

from collections.abc import Iterable

from tradeforge.auth.api_keys import ApiKeyInfo, ApiKeyManager, KeyKind, NewApiKey
from tradeforge.auth.audit import ANONYMOUS, SYSTEM, AuditAction, AuditEntry, Outcome, check_action
from tradeforge.auth.config import AuthConfig, load_key, parse_key
from tradeforge.auth.credentials import CredentialInfo, CredentialVault, ExchangeCredential
from tradeforge.auth.errors import Forbidden, InvalidInput, NotFound
from tradeforge.auth.passwords import PasswordHasher
from tradeforge.auth.principal import AuthMethod, Principal, RequestContext
from tradeforge.auth.repository import AuthRepository
from tradeforge.auth.roles import Permission, Role, Scope
from tradeforge.auth.secrets_box import SecretsBox
from tradeforge.auth.sessions import SessionInfo, SessionManager, TokenPair
from tradeforge.auth.signing import MemoryReplayCache, ReplayCache, SignedRequest
from tradeforge.auth.throttle import LoginThrottle
from tradeforge.auth.tokens import TokenCodec
from tradeforge.auth.users import UserInfo, UserManager
from tradeforge.bus import Clock
from tradeforge.domain.errors import ConfigurationError
from tradeforge.store import Database

__all__ = ["AuthService"]

_NS = 1_000_000_000
_MAX_AUDIT_PAGE = 500


class AuthService:
    """Users, logins, sessions, API keys, signed requests, exchange credentials and audit."""

    def __init__(
        self,
        *,
        config: AuthConfig,
        database: Database,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        jwt_key = load_key(config.jwt_secret, config.jwt_secret_file, "jwt_secret")
        kek = load_key(config.secret_key, config.secret_key_file, "secret_key")
        if jwt_key == kek:
            raise ConfigurationError(
                "TRADEFORGE__AUTH__JWT_SECRET and TRADEFORGE__AUTH__SECRET_KEY must differ"
            )
        self.config = config
        self._clock = clock
        self._repo = AuthRepository(database)
        self._box = SecretsBox(
            kek, [parse_key(k, "previous_secret_keys") for k in config.previous_secret_keys]
        )
        codec = TokenCodec(
            secret=jwt_key,
            previous_secrets=[
                parse_key(k, "jwt_previous_secrets") for k in config.jwt_previous_secrets
            ],
            issuer=config.issuer,
            audience=config.audience,
            clock=clock,
            leeway_s=config.leeway_s,
        )
        self._hasher = hasher or PasswordHasher()
        self._hasher.prepare()
        self._sessions = SessionManager(
            repository=self._repo, codec=codec, clock=clock, config=config
        )
        self._users = UserManager(
            repository=self._repo,
            hasher=self._hasher,
            sessions=self._sessions,
            throttle=LoginThrottle(config),
            clock=clock,
            config=config,
        )
        self._keys = ApiKeyManager(
            repository=self._repo,
            clock=clock,
            box=self._box,
            replay_cache=replay_cache or MemoryReplayCache(),
            config=config,
        )
        self._vault = CredentialVault(repository=self._repo, box=self._box, clock=clock)

    # ---------------------------------------------------------------------- authentication
    def login(self, username: str, password: str, ctx: RequestContext) -> TokenPair:
        """A new session (access + refresh token) for a right name and password.

        Raises AuthenticationFailed (401, one message for an unknown name and a wrong
        password), LoginThrottled (429 + retry_after) or AccountLocked (423).
        """
        return self._users.login(username, password, ctx)

    def refresh(self, refresh_token: str, ctx: RequestContext) -> TokenPair:
        """Rotate a refresh token; a reused one revokes its session (AuthenticationFailed)."""
        return self._sessions.refresh(refresh_token, ctx)

    def logout(self, principal: Principal, ctx: RequestContext) -> None:
        """End the caller's session."""
        if principal.session_id is None:
            raise InvalidInput("session", "an API key has no session to log out of")
        self._sessions.revoke(
            principal.session_id,
            owner_id=principal.user_id,
            reason="logout",
            actor=principal.user_id,
            ctx=ctx,
        )

    def authenticate(self, access_token: str) -> Principal:
        """The caller of a bearer access token (AuthenticationFailed when not valid now)."""
        return self._sessions.authenticate(access_token)

    def authenticate_api_key(self, token: str, ctx: RequestContext) -> Principal:
        """The caller of a bearer API key (AuthenticationFailed; Forbidden for the IP)."""
        return self._keys.authenticate(token, ctx)

    def authenticate_signed(self, request: SignedRequest, ctx: RequestContext) -> Principal:
        """The caller of an HMAC-signed request (AuthenticationFailed with ``code``
        ``TIMESTAMP_OUTSIDE_RECV_WINDOW``, ``SIGNATURE_INVALID``, ``SIGNATURE_REPLAYED``...)."""
        return self._keys.authenticate_signed(request, ctx)

    def require(self, principal: Principal, permission: Permission, ctx: RequestContext) -> None:
        """Return if ``principal`` may do ``permission``; else audit and raise Forbidden."""
        if principal.can(permission):
            return
        with self._repo.write() as tx:
            tx.record(
                self._clock.timestamp_ns(), ctx, principal.user_id, AuditAction.ACCESS_DENIED,
                permission.value, outcome=Outcome.REFUSED, method=principal.method.value,
                key_id=principal.key_id or "",
            )  # fmt: skip
        raise Forbidden(f"{permission.value} is not allowed for this credential")

    # ------------------------------------------------------------------------------- users
    def ensure_admin(
        self, username: str, password: str | None, ctx: RequestContext
    ) -> tuple[UserInfo, str | None] | None:
        """First start: create the admin (generated password returned once); None if users
        exist."""
        return self._users.ensure_admin(username, password, ctx)

    def create_user(
        self,
        principal: Principal,
        username: str,
        password: str,
        role: Role,
        ctx: RequestContext,
    ) -> UserInfo:
        """A new user (admin)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        return self._users.create(username, password, role, actor=principal.user_id, ctx=ctx)

    def register(self, username: str, password: str, ctx: RequestContext) -> UserInfo:
        """A new ``viewer`` made by its owner, when ``allow_registration`` is on (else
        Forbidden ``REGISTRATION_CLOSED``); throttled per client address like failed logins
        (LoginThrottled, 429)."""
        if not self.config.allow_registration:
            raise Forbidden("registration is closed", code="REGISTRATION_CLOSED")
        return self._users.register(username, password, ctx)

    def update_user(
        self,
        principal: Principal,
        user_id: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        ctx: RequestContext,
    ) -> UserInfo:
        """Change a user's role and/or disable or re-enable them (admin; not oneself).
        Disabling ends every session of theirs and revokes every API key of theirs (a
        re-enabled user logs in again and makes new keys)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        user = self._users.get(user_id)  # NotFound first: the id is checked before the rules
        if user_id == principal.user_id and (role is not None or disabled is not None):
            raise Forbidden("an admin cannot change their own role or disable themselves",
                            code="SELF_CHANGE")  # fmt: skip
        if role is not None and Role(role) is not user.role:
            user = self._users.set_role(user_id, role, actor=principal.user_id, ctx=ctx)
        if disabled is not None and disabled != user.disabled:
            user = self._users.set_disabled(user_id, disabled, actor=principal.user_id, ctx=ctx)
        if disabled:
            self._keys.revoke_all_of(user_id, actor=principal.user_id, reason="user_disabled",
                                     ctx=ctx)  # fmt: skip
        return user

    def list_users(self, principal: Principal, ctx: RequestContext) -> list[UserInfo]:
        """Every user (admin)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        return self._users.all()

    def get_user(self, principal: Principal, user_id: str) -> UserInfo:
        """One's own user, or anyone's for an admin (else NotFound)."""
        self._own_or_admin(principal, user_id)
        return self._users.get(user_id)

    def set_role(
        self, principal: Principal, user_id: str, role: Role, ctx: RequestContext
    ) -> UserInfo:
        """Change a user's role (admin; not one's own, so the last admin stays one)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        if user_id == principal.user_id:
            raise Forbidden("an admin cannot change their own role", code="SELF_CHANGE")
        return self._users.set_role(user_id, role, actor=principal.user_id, ctx=ctx)

    def set_disabled(
        self, principal: Principal, user_id: str, disabled: bool, ctx: RequestContext
    ) -> UserInfo:
        """Disable or re-enable a user (admin; not oneself)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        if user_id == principal.user_id:
            raise Forbidden("an admin cannot disable themselves", code="SELF_CHANGE")
        return self._users.set_disabled(user_id, disabled, actor=principal.user_id, ctx=ctx)

    def reset_password(
        self, principal: Principal, user_id: str, new_password: str, ctx: RequestContext
    ) -> None:
        """Set another user's password (admin); their sessions end."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        self._users.reset_password(user_id, new_password, actor=principal.user_id, ctx=ctx)

    def change_password(
        self, principal: Principal, old_password: str, new_password: str, ctx: RequestContext
    ) -> None:
        """Change one's own password (from a login session); other sessions end."""
        if principal.method is not AuthMethod.SESSION:
            raise Forbidden("log in to change your password", code="SESSION_REQUIRED")
        self._users.change_password(
            principal.user_id,
            old_password,
            new_password,
            keep_session=principal.session_id,
            ctx=ctx,
        )

    def unlock(self, principal: Principal, username: str, ctx: RequestContext) -> bool:
        """Clear a locked or throttled user name (admin)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        return self._users.unlock(username, actor=principal.user_id, ctx=ctx)

    def locked_usernames(self, principal: Principal, ctx: RequestContext) -> list[str]:
        """Names locked until an admin unlocks them (admin)."""
        self.require(principal, Permission.USERS_ADMIN, ctx)
        return self._users.locked()

    # ---------------------------------------------------------------------------- sessions
    def list_sessions(
        self, principal: Principal, user_id: str | None = None, *, include_ended: bool = False
    ) -> list[SessionInfo]:
        """One's own sessions, or a user's for an admin."""
        owner = self._account_owner(principal, user_id)
        return self._sessions.sessions_of(owner, include_ended=include_ended)

    def revoke_session(self, principal: Principal, session_id: str, ctx: RequestContext) -> None:
        """End one of one's sessions (any user's for an admin); NotFound otherwise."""
        owner = self._account_owner(principal, None)
        self._sessions.revoke(
            session_id,
            owner_id=None if principal.can(Permission.USERS_ADMIN) else owner,
            reason="revoked",
            actor=principal.user_id,
            ctx=ctx,
        )

    def revoke_all_sessions(
        self, principal: Principal, ctx: RequestContext, user_id: str | None = None
    ) -> int:
        """End all of a user's sessions but the caller's own; how many ended."""
        owner = self._account_owner(principal, user_id)
        now = self._clock.timestamp_ns()
        with self._repo.write() as tx:
            ended = SessionManager.revoke_all(
                tx, owner, reason="revoked", now=now, keep=principal.session_id
            )
            tx.record(
                now, ctx, principal.user_id, AuditAction.SESSION_REVOKED, owner,
                sessions_ended=str(len(ended)),
            )  # fmt: skip
        self._sessions.forget(*ended)
        return len(ended)

    # ---------------------------------------------------------------------------- API keys
    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str,
        scopes: Iterable[Scope | str],
        signing: bool = False,
        ip_allowlist: Iterable[str] = (),
        expires_in_s: int | None = None,
        ctx: RequestContext,
    ) -> NewApiKey:
        """A new key for the caller; ``secret`` is in the answer once and never again."""
        self.require(principal, Permission.KEYS_MANAGE, ctx)
        return self._keys.create(
            self._users.record(principal.user_id),
            name=name,
            scopes=scopes,
            kind=KeyKind.SIGNING if signing else KeyKind.BEARER,
            ip_allowlist=ip_allowlist,
            expires_in_s=expires_in_s,
            actor=principal.user_id,
            ctx=ctx,
        )

    def list_api_keys(
        self, principal: Principal, ctx: RequestContext, user_id: str | None = None
    ) -> list[ApiKeyInfo]:
        """One's own keys, or a user's for an admin (no secrets)."""
        self.require(principal, Permission.KEYS_MANAGE, ctx)
        return self._keys.keys_of(self._own_or_admin(principal, user_id))

    def revoke_api_key(self, principal: Principal, key_id: str, ctx: RequestContext) -> None:
        """Revoke one of one's keys (any user's for an admin); NotFound otherwise."""
        self.require(principal, Permission.KEYS_MANAGE, ctx)
        admin = principal.can(Permission.USERS_ADMIN)
        self._keys.revoke(
            key_id, owner_id=None if admin else principal.user_id, actor=principal.user_id, ctx=ctx
        )

    def revoke_leaked_key(self, token: str, ctx: RequestContext) -> bool:
        """Revoke the key whose secret was found leaked (secret-scanning hook); True if found."""
        return self._keys.revoke_leaked(token, ctx)

    # ---------------------------------------------------------------- exchange credentials
    def store_credential(
        self,
        principal: Principal,
        *,
        venue: str,
        label: str,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        ctx: RequestContext,
    ) -> CredentialInfo:
        """Seal and keep one's exchange credential; the answer never holds the secret."""
        self.require(principal, Permission.CREDENTIALS_MANAGE, ctx)
        return self._vault.store(
            principal.user_id,
            venue=venue,
            label=label,
            api_key=api_key,
            secret=secret,
            passphrase=passphrase,
            actor=principal.user_id,
            ctx=ctx,
        )

    def list_credentials(self, principal: Principal, ctx: RequestContext) -> list[CredentialInfo]:
        """One's own exchange credentials (descriptions only)."""
        self.require(principal, Permission.CREDENTIALS_MANAGE, ctx)
        return self._vault.credentials_of(principal.user_id)

    def delete_credential(
        self, principal: Principal, credential_id: str, ctx: RequestContext
    ) -> None:
        """Delete one of one's exchange credentials (NotFound for another's)."""
        self.require(principal, Permission.CREDENTIALS_MANAGE, ctx)
        self._vault.delete(
            credential_id, owner_id=principal.user_id, actor=principal.user_id, ctx=ctx
        )

    def credential_for_connector(
        self, user_id: str, credential_id: str, ctx: RequestContext
    ) -> ExchangeCredential:
        """The plaintext credential, for the connector wiring only (audited; never a route)."""
        return self._vault.reveal(credential_id, user_id=user_id, purpose="connector", ctx=ctx)

    def rotate_secret_key(self, ctx: RequestContext) -> int:
        """Re-wrap every sealed secret under the current KEK (operator, after adding a new
        ``secret_key`` and moving the old one to ``previous_secret_keys``); rows changed."""
        changed = self._keys.reseal_all() + self._vault.reseal_all()
        with self._repo.write() as tx:
            tx.record(
                self._clock.timestamp_ns(), ctx, SYSTEM, AuditAction.SECRET_KEY_ROTATED,
                self._box.current_id, rows=str(changed),
            )  # fmt: skip
        return changed

    # ------------------------------------------------------------------------------- audit
    def record(
        self,
        action: str,
        principal: Principal | None,
        ctx: RequestContext,
        *,
        target: str | None = None,
        outcome: Outcome = Outcome.OK,
        detail: dict[str, str] | None = None,
    ) -> None:
        """Append an audit row for a gateway action (every order action: ``order.submitted``,
        ``order.cancelled``...), with the caller, IP, request id and time."""
        values = dict(detail or {})
        if principal is not None:
            values.setdefault("method", principal.method.value)
            if principal.key_id:
                values.setdefault("key_id", principal.key_id)
        with self._repo.write() as tx:
            tx.record(
                self._clock.timestamp_ns(), ctx,
                principal.user_id if principal else ANONYMOUS, check_action(action), target,
                outcome=outcome, **values,
            )  # fmt: skip

    def audit_log(
        self,
        principal: Principal,
        ctx: RequestContext,
        *,
        actor: str | None = None,
        action: str | None = None,
        since_ns: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit rows, newest first; page with ``before_id`` (admin)."""
        self.require(principal, Permission.AUDIT_READ, ctx)
        if not 0 < limit <= _MAX_AUDIT_PAGE:
            raise InvalidInput("limit", f"1..{_MAX_AUDIT_PAGE}")
        with self._repo.read() as tx:
            return tx.audit_entries(
                actor=actor, action=action, since_ns=since_ns, before_id=before_id, limit=limit
            )

    def prune(self, older_than_s: int = 86_400) -> int:
        """Forget login attempts (and idle throttle rows) older than this; rows removed.
        The audit log is never pruned here."""
        before = self._clock.timestamp_ns() - older_than_s * _NS
        with self._repo.write() as tx:
            return tx.prune_login_state(before)

    # ----------------------------------------------------------------------------- helpers
    def _own_or_admin(self, principal: Principal, user_id: str | None) -> str:
        if user_id is None or user_id == principal.user_id:
            return principal.user_id
        if principal.can(Permission.USERS_ADMIN):
            return user_id
        raise NotFound("no such user")

    def _account_owner(self, principal: Principal, user_id: str | None) -> str:
        # Sessions belong to people: a login session manages its own, a key needs users:admin.
        if principal.method is not AuthMethod.SESSION and not principal.can(Permission.USERS_ADMIN):
            raise Forbidden("log in to manage sessions", code="SESSION_REQUIRED")
        return self._own_or_admin(principal, user_id)
