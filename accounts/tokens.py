"""Refresh tokens with a family claim (see accounts/token_families.py for rotation and revocation)."""

from __future__ import annotations

from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.settings import api_settings

# The claim naming a refresh token's family: the id of the login's token, carried by each successor.
FAMILY_CLAIM = "fam"


class RefreshToken(jwt_tokens.RefreshToken):
    """simplejwt's refresh token with a family claim, which access tokens do not copy.

    It does not check the blacklist when it is read: accounts.token_families decides, inside the transaction
    that rotates or revokes it, and a refused token there also revokes its family.
    """

    no_copy_claims = (*jwt_tokens.RefreshToken.no_copy_claims, FAMILY_CLAIM)

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
