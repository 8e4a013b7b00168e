"""The edgeX exchange boundary: signing, HTTP client and the loopback simulator."""
