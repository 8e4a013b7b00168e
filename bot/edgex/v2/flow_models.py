"""Typed views of edgeX V2 unified-asset answers (notes section 2.4), lenient like V1's models.

``getFeeByAssetFlow`` and ``submitAssetFlow`` are the SDK's (``data.fee``, ``data.flowId``). The
``queryAssetFlows`` record is ASSUMED throughout: edgeX publishes neither its parameters nor its
fields nor its status values (notes 2.4 step 6, open question 3). Only ``flowId`` is required of
a record; its ``status`` stays plain text (empty when absent), so a status nobody named still
parses, is shown verbatim and keeps being watched.
"""

from __future__ import annotations

from pydantic import Field

from bot.edgex.models import EdgeXModel, Id, Many, Text

__all__ = ["AssetFlow", "AssetFlowPage", "FlowFeeData", "FlowSubmitted"]


class FlowFeeData(EdgeXModel):
    """``getFeeByAssetFlow`` data: the fee in raw token units, as text."""

    fee: Text


class FlowSubmitted(EdgeXModel):
    """``submitAssetFlow`` data."""

    flow_id: Id


class AssetFlow(EdgeXModel):
    """One ``queryAssetFlows`` record. ASSUMED schema (our simulator's), see the module doc."""

    flow_id: Id
    status: Text = ""
    client_withdraw_id: Text | None = None
    source_account: Text | None = None
    token_address: Text | None = None
    amount: Text | None = None
    fee: Text | None = None
    destination: Text | None = None
    destination_account: Text | None = None
    tx_hash: Text | None = None
    fail_code: Text | None = None
    fail_reason: Text | None = None
    created_time: Text | None = None
    updated_time: Text | None = None


class AssetFlowPage(EdgeXModel):
    """``queryAssetFlows`` data. ASSUMED: a ``dataList`` as V1's list calls have."""

    data_list: Many[AssetFlow] = Field(default=())
