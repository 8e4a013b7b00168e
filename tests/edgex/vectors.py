"""The public signing vectors (a copy of shared/edgex-public-vectors.json), loaded once."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from bot.edgex.signing import CoinMeta, StarkKey

VECTORS_PATH = Path(__file__).parent / "data" / "edgex-public-vectors.json"


@cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS_PATH.read_text())
    return data


@cache
def vector_key() -> StarkKey:
    return StarkKey.from_hex(vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"])


def vector_coin() -> CoinMeta:
    coin = vectors()["assumed_metadata"]["coin"]
    return CoinMeta(
        coin_id=coin["coinId"],
        stark_ex_asset_id=coin["starkExAssetId"],
        stark_ex_resolution=coin["starkExResolution"],
    )


@cache
def sdk_derived() -> dict[str, Any]:
    """Transfer hashes and POST sign-values computed by the official SDK's code (see "about")."""
    data: dict[str, Any] = json.loads(
        (VECTORS_PATH.parent / "sdk-derived-vectors.json").read_text()
    )
    return data
