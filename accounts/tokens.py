"""JWTs: simplejwt's, with checked claims; refresh tokens with a family claim (accounts/token_families.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

# The claim naming a refresh token's family: the id of the login's token, carried by each successor.
FAMILY_CLAIM = "fam"
MAX_ID = 2**63 - 1  # the largest value of the BigAutoField
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last second a datetime holds


def check_claims(payload: dict) -> None:
    """The claims the server reads are of the types it writes, or the token is refused (TokenError, 401).

    Only the key's holder signs tokens, but a signed token must still not reach the database or the clock
    with a claim that is not what simplejwt writes: a user id that was a string, float, list or a number
    past the column raised a 500 (and 1.5 read as user 1), as did an `exp` past the year 9999.
    """
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    if isinstance(user_id, str) and 0 < len(user_id) <= 19 and user_id.isascii() and user_id.isdigit():
        user_id = int(user_id) if str(int(user_id)) == user_id else None  # no leading zeros
    if type(user_id) is not int or not 0 < user_id <= MAX_ID:
        raise TokenError(_("Token contained no recognizable user identification"))
    for claim in ("exp", "iat"):
        value = payload.get(claim, 0)
        if type(value) not in (int, float) or not 0 <= value <= MAX_TIMESTAMP:
            raise TokenError(_("Token is invalid"))
    for claim in (api_settings.JTI_CLAIM, FAMILY_CLAIM):
        value = payload.get(claim, "-")
        if not isinstance(value, str) or not 0 < len(value) <= 255:  # the columns that hold them
            raise TokenError(_("Token is invalid"))


class AccessToken(jwt_tokens.AccessToken):
    """simplejwt's access token, refused unless its claims are of the types the server writes (check_claims)."""

    def verify(self) -> None:
        check_claims(self.payload)
        super().verify()


class RefreshToken(jwt_tokens.RefreshToken):
    """simplejwt's refresh token with checked claims (check_claims) and a family claim, which access tokens
    do not copy.

    It does not check the blacklist when it is read: accounts.token_families decides, inside the transaction
    that rotates or revokes it, and a refused token there also revokes its family.
    """

    # simplejwt's own tuple is inferred as exactly its five claims, so adding one reads as another type.
    no_copy_claims = (*jwt_tokens.RefreshToken.no_copy_claims, FAMILY_CLAIM)  # type: ignore[assignment]
    access_token_class = AccessToken

    def verify(self) -> None:
        check_claims(self.payload)
        super().verify()

    def check_blacklist(self) -> None:
        return None

    @property
    def jti(self) -> str:
        return self.payload[api_settings.JTI_CLAIM]

    @property
    def family_id(self) -> str:
        """Its family: named by the claim it carries, or by its own id if it is the first of its family."""
        return self.payload.get(FAMILY_CLAIM) or self.jti

    @property
    def opens_family(self) -> bool:
        """The first token of its family: the one a login answers (simplejwt's, unchanged)."""
        return FAMILY_CLAIM not in self.payload

    def successor(self) -> RefreshToken:
        """The token that replaces this one: the same claims, a new id, issued now."""
        token = type(self)()
        for claim, value in self.payload.items():
            if claim not in (api_settings.JTI_CLAIM, "exp", "iat", api_settings.TOKEN_TYPE_CLAIM):
                token[claim] = value
        token[FAMILY_CLAIM] = self.family_id
        return token
