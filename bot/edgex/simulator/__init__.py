"""A faithful loopback edgeX exchange, V1 and V2, for tests, the demo and paper mode.

It serves the edgeX routes the bot uses, checks requests the way edgeX does (Stark-signed auth
headers within a timestamp window, withdrawal fields, the L2 signature over the StarkEx message),
walks each withdrawal through the real status enums on a lifecycle clock, and lets tests script
outcomes and transport faults. Run it with ``withdrawbot simulator --port N [--state PATH]`` or
in-process with :class:`SimulatorServer`.

edgeX routes (envelope ``code, data, msg, errorParam, requestTime, responseTime, traceId``)::

    GET  /api/v1/public/meta/getServerTime            data.timeMillis
    GET  /api/v1/public/meta/getMetaData              global, coinList, contractList, multiChain
    GET  /api/v1/private/account/getAccountById       ?accountId                  -> l2Key, ...
    POST /api/v1/private/assets/createNormalWithdraw  signed body                 -> withdrawId
    POST /api/v1/private/assets/createCrossWithdraw   signed body                 -> crossWithdrawId
    GET  /api/v1/private/assets/getNormalWithdrawById ?accountId&normalWithdrawIdList=a,b
    GET  /api/v1/private/assets/getCrossWithdrawById  ?accountId&crossWithdrawIdList=a,b
    GET  /api/v1/private/assets/getCrossWithdrawSignInfo ?amount&chainId[&tokenAddress]
    GET  /api/v1/private/assets/getNormalWithdrawableAmount ?address
    GET  /api/v1/private/assets/getAllOrdersPage      ?accountId&size(1..100)[&startTime&endTime
                                                      (Unix s)&chainId&typeList&offsetData]

edgeX V2 routes (HMAC headers ``X-edgeX-Api-Key``, ``-Passphrase``, ``-Signature``,
``-Timestamp``; see ``flows.py`` for the rules and what is ASSUMED)::

    GET  /api/v2/public/meta/getServerTime            data.timeMillis
    POST /api/v1/private/unified-asset/getFeeByAssetFlow {"attempt"}          -> fee (raw units)
    POST /api/v1/private/unified-asset/getEIP712Data  {"attempt"}             -> typed data
    POST /api/v1/private/unified-asset/submitAssetFlow {"attempt", "userSignature", ...}
                                                                              -> flowId
    GET  /api/v1/private/unified-asset/queryAssetFlows ?accountId&flowIdList | clientWithdrawIdList

Error codes are the simulator's own (edgeX publishes no catalogue), e.g. ``AUTH_HEADER_MISSING``,
``AUTH_TIMESTAMP_EXPIRED``, ``AUTH_SIGNATURE_MALFORMED``, ``AUTH_SIGNATURE_INVALID`` (HTTP 401),
``ACCOUNT_NOT_FOUND``, ``COIN_NOT_FOUND``, ``AMOUNT_INVALID``, ``AMOUNT_STEP_SIZE_INVALID``,
``BALANCE_NOT_ENOUGH``, ``ETH_ADDRESS_INVALID``, ``EXPIRE_TIME_TOO_SHORT``,
``L2_SIGNATURE_MALFORMED``, ``L2_SIGNATURE_INVALID``, ``CLIENT_ID_CONFLICT``,
``CHAIN_NOT_SUPPORTED``, ``CHAIN_WITHDRAW_DISABLED``, ``ERC20_ADDRESS_MISMATCH``,
``AMOUNT_BELOW_MIN``, ``AMOUNT_ABOVE_MAX``, ``AMOUNT_ABOVE_CROSS_MAX``, ``LP_ACCOUNT_MISMATCH``,
``FEE_MISMATCH``, ``INVALID_PARAMETER`` (with ``errorParam.field``).

Admin API (JSON in, JSON out; no auth, so bind to loopback only)::

    POST   /_sim/accounts  {"l2Key": "0x..", "accountId"?: "..", "balances"?: {"1000": "5000"},
                            "ethAddress"?: "0x..", "apiEnabled"?: false}  create an account
                           (apiEnabled false: signed calls answer ACCOUNT_ID_WHITELIST_ERROR)
    POST   /_sim/quote     {"chainId"?: "42161" | "*", "lpAccountId"?, "crossWithdrawL2Key"?,
                            "fee"?, "crossWithdrawMaxAmount"?}           set the cross quote
                           {"chainId"?, "refuse": {"code", "msg"?} | null}
                                   getCrossWithdrawSignInfo answers that error (null: quotes again)
    POST   /_sim/fates     {"outcome": "success" | "risk_check_failure" | "censor_failure"
                            | "censor_account_rejected" | "transfer_rejected" | "l2_rejected"
                            | "l1_submit_rejected" | "l1_rejected" | "balance_not_enough",
                            "code"?, "reason"?, "l1CompletedEthAddress"?,
                            and one of "withdrawId" | "clientId" | neither (= the next one)}
    POST   /_sim/v2/accounts {"walletAddress", "accountId"?, "balances"?: {"USDC": "5000"}}
                           a V2 account; answers with its apiKey, apiSecret and passphrase
    POST   /_sim/v2/api_keys {"accountId"}       another API key for an account
    POST   /_sim/v2/fees   {"token": "USDC" | "ETH", "fee": "<raw units>"}  getFeeByAssetFlow
    POST   /_sim/v2/fates  as /_sim/fates ("payout_failed", "risk_check_failure") or {"flowId"}
    POST   /_sim/advance   {"seconds": N}        move the lifecycle clock forward
    POST   /_sim/config    {"normalStepMs"?, "crossStepMs"?, "flowStepMs"?, "authWindowMs"?,
                            "shape"?: "sdk" | "docs" | "hostile",  how answers are spelled
                            "typedTamper"?: "<message field>"}  getEIP712Data lies about it
    POST   /_sim/faults    {"kind": "http_error" | "rate_limit" | "slow" | "drop"
                            | "drop_after_record" | "malformed_json", "path"?: "/api/..." | "*",
                            "method"?, "count"?: 1, "status"?: 503, "retryAfter"?: "1",
                            "seconds"?: 1.0}      applies to the next `count` matching calls
    DELETE /_sim/faults                           clear pending faults
    GET    /_sim/state                            the whole book (withdrawals with raw bodies)
    GET    /_sim/requests                         recent API calls (method, path, code, at)

Clocks: authentication and ``getServerTime`` follow the wall clock, as on edgeX; withdrawal walks
follow the lifecycle clock (wall clock plus ``/_sim/advance``), one status per configured step;
a V2 attempt's ``expireTime`` is checked on the wall clock, the one ``getServerTime`` shows.
``drop_after_record`` processes the request (a withdrawal is recorded) and then closes the
connection without answering: the case the bot's exactly-once submission must survive.
"""

from bot.edgex.simulator.server import SimulatorServer

__all__ = ["SimulatorServer"]
