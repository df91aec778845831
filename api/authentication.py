"""API tokens that expire: DRF's tokens, valid API_TOKEN_TTL_DAYS after they were issued."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token: Token, now: datetime.datetime | None = None) -> bool:
    days = settings.API_TOKEN_TTL_DAYS
    if not days:
        return False
    return token.created <= (now or timezone.now()) - datetime.timedelta(days=days)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; an expired token is a 401 that says so (a new one comes
    from POST auth/token/ with the username and password)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed(_("This token has expired: ask for a new one with your "
                                         "username and password."))
        return user, token
