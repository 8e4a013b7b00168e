"""The official edgeX V2 hosts (notes section 2.1), apart so settings can name them cheaply.

Unified-asset calls go to the asset host only; the docs say never to send them to the REST
host, which serves everything else (and the exchange clock).
"""

ASSET_URL = "https://spot.edgex.exchange"
REST_URL = "https://edgex-prod-v2.edgex.exchange"
