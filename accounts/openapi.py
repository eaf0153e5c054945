"""The OpenAPI documentation of the auth endpoints, applied to the views in accounts/views.py by name."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.serializers import LogoutSerializer, TokenRefreshSerializer, UserSerializer
from oneonone.schema import ERROR_REF

THROTTLED = OpenApiResponse(
    ERROR_REF,
    description="Too many attempts from this address; retry after the time in the Retry-After header.",
    examples=[
        OpenApiExample("Throttled", value={"detail": "Request was throttled. Expected available in 42 seconds."})
    ],
)
BAD_TOKEN = OpenApiResponse(ERROR_REF, description="The token is invalid, expired, or revoked.")


register = extend_schema_view(
    post=extend_schema(
        operation_id="auth_register",
        summary="Register a new user",
        description="Register a new user. Throttled per client address (`REGISTER_THROTTLE_RATE`).",
        responses={201: OpenApiResponse(UserSerializer, description="User created successfully."), 429: THROTTLED},
        examples=[
            OpenApiExample(
                "Register",
                value={
                    "username": "alice",
                    "email": "alice@example.com",
                    "password": "c0rrect-h0rse",
                    "password2": "c0rrect-h0rse",
                },
                request_only=True,
            ),
        ],
        tags=["auth"],
    )
)


login = extend_schema_view(
    post=extend_schema(
        operation_id="auth_login",
        summary="Log in",
        description=(
            "Takes a set of user credentials and returns an access and refresh JSON web token pair "
            "to prove the authentication of those credentials. Throttled per client address "
            "(`AUTH_THROTTLE_RATE`)."
        ),
        responses={
            200: OpenApiResponse(TokenObtainPairSerializer, description="The token pair."),
            401: OpenApiResponse(ERROR_REF, description="No active account with these credentials."),
            429: THROTTLED,
        },
        examples=[OpenApiExample("Login", value={"username": "alice", "password": "c0rrect-h0rse"}, request_only=True)],
        tags=["auth"],
    )
)


refresh = extend_schema_view(
    post=extend_schema(
        operation_id="auth_refresh",
        summary="Refresh the tokens",
        description=(
            "Takes a refresh type JSON web token and returns a new access token and a new refresh "
            "token. The refresh token sent is revoked (rotation): using it again answers 401."
        ),
        responses={
            200: OpenApiResponse(TokenRefreshSerializer, description="A new token pair."),
            401: BAD_TOKEN,
            429: THROTTLED,
        },
        examples=[OpenApiExample("Refresh", value={"refresh": "<refresh token>"}, request_only=True)],
        tags=["auth"],
    )
)


logout = extend_schema(
    operation_id="auth_logout",
    summary="Log out",
    description="Blacklists the refresh token given, so it can no longer be refreshed. Answers 204.",
    request=LogoutSerializer,
    responses={204: OpenApiResponse(description="Revoked."), 401: BAD_TOKEN, 429: THROTTLED},
    examples=[OpenApiExample("Logout", value={"refresh": "<refresh token>"}, request_only=True)],
    tags=["auth"],
)


me = extend_schema_view(
    get=extend_schema(
        operation_id="auth_me",
        summary="The current user",
        description="Who the access token (or session) belongs to.",
        tags=["auth"],
    )
)
