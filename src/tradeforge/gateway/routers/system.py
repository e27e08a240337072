"""``/healthz``, ``/readyz`` and ``/api/v1/system``: is it up, is it ready, what is running."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from tradeforge import __version__
from tradeforge.auth.roles import Permission
from tradeforge.gateway.schemas import VersionOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter()


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


@router.get("/healthz", tags=["system"], summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["system"], summary="The node runs and its journal answers",
            responses={503: {"description": "not ready"}})  # fmt: skip
async def readyz(request: Request) -> JSONResponse:
    node = _services(request).node
    if not node.running:
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/api/v1/system/version", tags=["system"], response_model=VersionOut,
            dependencies=[Depends(requires(Permission.SYSTEM_READ))])  # fmt: skip
async def version(request: Request) -> VersionOut:
    return VersionOut(version=__version__, mode=_services(request).mode)
