"""``/api/v1/reconciliation``: what the node's reconciliations with its venues found.

The node reconciles at start and then periodically (``reconcile_every_s``): orders the journal
had open or in flight are looked up at the venue and adopted or resolved, missed fills applied,
and orders the journal never saw reported as external. The report covers every reconciliation
since the node started (each order id listed once). Acting on a discrepancy over the API is not
built yet.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tradeforge.auth.roles import Permission
from tradeforge.gateway.schemas import ReconciliationOut
from tradeforge.gateway.security import requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/reconciliation",
    tags=["reconciliation"],
    dependencies=[Depends(requires(Permission.RECONCILIATION_READ))],
)


@router.get("", response_model=ReconciliationOut)
async def last_report(request: Request) -> ReconciliationOut:
    services: GatewayServices = request.app.state.services
    report = services.node.report
    return ReconciliationOut(
        adopted=list(dict.fromkeys(report.adopted)),  # a periodic run may list an id again
        resolved=list(dict.fromkeys(report.resolved)),
        fills_applied=report.fills_applied,
        external=list(dict.fromkeys(report.external)),
    )
