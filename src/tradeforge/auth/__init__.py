"""Auth service: users and argon2id passwords, JWT access and rotating refresh tokens,
sessions, roles and permissions, scoped API keys with optional HMAC request signing, login
throttling, exchange credentials sealed at rest, and the audit log.

The gateway calls :class:`AuthService` only; docs/auth.md describes the model.
"""

from tradeforge.auth.api_keys import (
    SCANNER_REGEX,
    ApiKeyInfo,
    KeyKind,
    NewApiKey,
    find_api_keys,
    is_api_key,
)
from tradeforge.auth.audit import AuditAction, AuditEntry, Outcome
from tradeforge.auth.config import AuthConfig, generate_key_text
from tradeforge.auth.credentials import CredentialInfo, ExchangeCredential
from tradeforge.auth.errors import (
    AccountLocked,
    AuthenticationFailed,
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    LoginThrottled,
    NotFound,
    SecretUnreadable,
)
from tradeforge.auth.passwords import PasswordHasher
from tradeforge.auth.principal import AuthMethod, Principal, RequestContext
from tradeforge.auth.roles import (
    ROLE_PERMISSIONS,
    SCOPE_PERMISSIONS,
    Permission,
    Role,
    Scope,
    allowed,
    permissions_of,
)
from tradeforge.auth.service import AuthService
from tradeforge.auth.sessions import SessionInfo, TokenPair
from tradeforge.auth.signing import MemoryReplayCache, ReplayCache, SignedRequest, sign_request
from tradeforge.auth.users import UserInfo

__all__ = [
    "ROLE_PERMISSIONS",
    "SCANNER_REGEX",
    "SCOPE_PERMISSIONS",
    "AccountLocked",
    "ApiKeyInfo",
    "AuditAction",
    "AuditEntry",
    "AuthConfig",
    "AuthError",
    "AuthMethod",
    "AuthService",
    "AuthenticationFailed",
    "Conflict",
    "CredentialInfo",
    "ExchangeCredential",
    "Forbidden",
    "InvalidInput",
    "KeyKind",
    "LoginThrottled",
    "MemoryReplayCache",
    "NewApiKey",
    "NotFound",
    "Outcome",
    "PasswordHasher",
    "Permission",
    "Principal",
    "ReplayCache",
    "RequestContext",
    "Role",
    "Scope",
    "SecretUnreadable",
    "SessionInfo",
    "SignedRequest",
    "TokenPair",
    "UserInfo",
    "allowed",
    "find_api_keys",
    "generate_key_text",
    "is_api_key",
    "permissions_of",
    "sign_request",
]
