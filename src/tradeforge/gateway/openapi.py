"""The OpenAPI document says what the gateway really answers, so clients and fuzzers can trust it.

FastAPI documents a route's success response and its own 422 body; the gateway answers more
than that, and differently: every error is a problem document (``application/problem+json``,
``problems.py``), a protected route needs a bearer token (401), a permission (403) and is rate
limited (429), a body can be too large (413) or not JSON at all (400), an id in the path can
name nothing (404), and a dependency can be down (503). ``install_openapi`` adds exactly these
to each operation, from what the route declares (``security.route_access``), and the bearer
security scheme, so the document matches the answers (RELIABILITY.md SEC-1: 0 schema
violations under Schemathesis).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tradeforge.gateway.security import route_access

__all__ = ["PROBLEM_SCHEMA", "install_openapi"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "code": {"type": "string", "description": "a machine-readable reason, when there is one"},
    },
    "additionalProperties": True,
}

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_NO_HEALTH_LIMIT = {"/healthz", "/readyz"}  # never rate limited (docs/api.md), plain JSON
_ERRORS = {
    400: "the body is not JSON",
    401: "no valid access token or API key",
    403: "the credential lacks the permission",
    404: "nothing with that id (or not the caller's)",
    413: "the body is over 1 MiB",
    422: "the request does not match the schema, or a value is refused",
    429: "rate limited (Retry-After)",
    503: "a dependency is temporarily unavailable",
}


def install_openapi(app: FastAPI) -> None:
    """Serve ``app``'s OpenAPI document with the gateway's security and error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=app.routes,
                              description=app.description)  # fmt: skip
            app.openapi_schema = _complete(app, doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(app: FastAPI, doc: dict[str, Any]) -> dict[str, Any]:
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an access token from /api/v1/auth/login, or an API key (tf_key_...)",
        }
    }
    access = route_access(app)
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            if path in _NO_HEALTH_LIMIT:  # probes: plain JSON, no token, no limit
                operation["security"] = []
                continue
            needs = access.get((method.upper(), path))
            _complete_operation(operation, public=needs == "public")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _complete_operation(operation: dict[str, Any], *, public: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses: set[int] = {429, 503}
    if not public:
        operation["security"] = [{"bearer": []}]
        statuses |= {401, 403}
    else:
        operation["security"] = []
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.add(404)
    for status in sorted(statuses):
        responses.setdefault(str(status), {"description": _ERRORS[status]})
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            response["content"] = {"application/problem+json": {"schema": _PROBLEM_REF}}
