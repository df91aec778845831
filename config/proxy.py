"""The client's address, behind our reverse proxy or not (django-axes' lock-outs use it; DRF's
throttles apply the same rule through NUM_PROXIES)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Without a proxy, REMOTE_ADDR. Behind PROXY_COUNT proxies, each appending the address it
    saw to X-Forwarded-For, the one the outermost appended: what stands to its left the client
    may have sent itself (and could change at every request to dodge a limit)."""
    count = getattr(settings, "PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(count, len(addresses))]
    return str(request.META.get("REMOTE_ADDR", ""))
