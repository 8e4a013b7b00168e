"""V2 HMAC auth headers: the worked vectors of ``../shared/edgex-v2.md`` section 2.2 (computed
with the official SDK's own ``auth.py``), and an independent implementation on POST bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.edgex.v2.hmac_auth import JsonValue, flatten, hmac_headers, sign_content

SECRET = "test-secret"  # made up, as in the notes
TS = 1796169600000  # 2026-12-02T00:00Z
WALLET = "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
ATTEMPT: dict[str, JsonValue] = {
    "userAddress": WALLET,
    "privyAddress": "0x0000000000000000000000000000000000000000",
    "source": "spot",
    "sourceAccount": "12345",
    "tokenAddress": "0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c",
    "amount": "990",
    "fee": "10",
    "destination": "chain-3343",
    "destinationAccount": WALLET,
    "clientWithdrawId": "849849126827855872",
    "expireTime": 1893456000,
}
SUBMIT: dict[str, JsonValue] = {
    "attempt": ATTEMPT,
    "userSignature": "0x" + "11" * 65,
    "extraData": "",
    "privyIdentityToken": "",
}


def _headers(**request: Any) -> dict[str, str]:
    return hmac_headers(
        api_key="key-1", api_secret=SECRET, passphrase="pass-1", timestamp_ms=TS, **request
    )


def test_the_sdk_vector_for_a_get() -> None:
    headers = _headers(
        method="GET", path="/api/v2/private/account/getAccountAsset", query={"accountId": "1"}
    )
    assert headers == {
        "X-edgeX-Api-Key": "key-1",
        "X-edgeX-Passphrase": "pass-1",
        "X-edgeX-Signature": "443d86727aa6f9964445e4fb30806ff50fad18ac2aa91375d8e56444e851b8cd",
        "X-edgeX-Timestamp": "1796169600000",
    }


def test_the_sdk_vector_for_a_submit() -> None:
    path = "/api/v1/private/unified-asset/submitAssetFlow"
    assert sign_content(timestamp_ms=TS, method="POST", path=path, body=SUBMIT) == (
        f"1796169600000POST{path}attempt=amount=990&clientWithdrawId=849849126827855872"
        f"&destination=chain-3343&destinationAccount={WALLET}&expireTime=1893456000&fee=10"
        "&privyAddress=0x0000000000000000000000000000000000000000&source=spot"
        "&sourceAccount=12345&tokenAddress=0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c"
        f"&userAddress={WALLET}&extraData=&privyIdentityToken=&userSignature=0x{'11' * 65}"
    )
    headers = _headers(method="post", path=path, body=SUBMIT)
    assert headers["X-edgeX-Signature"] == (
        "db57358d29c1f0bfbcf2491c2edb9aebee1eb7c64d340a1f41c7018143813503"
    )


def test_the_secret_is_in_no_header() -> None:
    headers = _headers(method="POST", path="/api/v1/private/unified-asset/x", body=SUBMIT)
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert all(SECRET not in v and encoded not in v for v in headers.values())


def test_a_float_is_refused_rather_than_signed_as_python_writes_it() -> None:
    with pytest.raises(TypeError, match="float"):
        flatten({"amount": 1.5})  # type: ignore[dict-item]


# --- an independent implementation, written from the notes' description -----------------------


def _independent(body: Any) -> str:
    """The SDK's rule written another way: through the JSON text, iteratively."""
    out: list[str] = []
    stack: list[tuple[str, Any]] = [("value", json.loads(json.dumps(body)))]
    while stack:
        kind, item = stack.pop()
        if kind == "text":
            out.append(item)
        elif isinstance(item, dict):
            parts: list[tuple[str, Any]] = []
            for n, key in enumerate(sorted(item)):
                parts += [("text", ("&" if n else "") + f"{key}="), ("value", item[key])]
            stack.extend(reversed(parts))
        elif isinstance(item, list):
            parts = []
            for n, element in enumerate(item):
                parts += [("text", "&" if n else ""), ("value", element)]
            stack.extend(reversed(parts))
        elif item is None:
            out.append("")
        elif item is True or item is False:
            out.append(json.dumps(item))
        else:
            out.append(str(item))
    return "".join(out)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(min_size=1, max_size=12), JSON, min_size=1, max_size=6), st.text())
def test_post_headers_equal_an_independent_implementation(
    body: dict[str, Any], secret: str
) -> None:
    path = "/api/v1/private/unified-asset/getEIP712Data"
    content = f"{TS}POST{path}{_independent(body)}"
    key = base64.b64encode(secret.encode())
    expected = hmac.new(key, content.encode(), hashlib.sha256).hexdigest()
    headers = hmac_headers(
        api_key="k",
        api_secret=secret,
        passphrase="p",
        timestamp_ms=TS,
        method="POST",
        path=path,
        body=body,
    )
    assert headers["X-edgeX-Signature"] == expected
