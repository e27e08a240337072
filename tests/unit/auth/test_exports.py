import tradeforge.auth


def test_public_api_is_pinned() -> None:
    assert sorted(tradeforge.auth.__all__) == sorted(
        [
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
    )


def test_every_exported_name_exists() -> None:
    for name in tradeforge.auth.__all__:
        assert hasattr(tradeforge.auth, name), name
