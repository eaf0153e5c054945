"""Registration, JWT login, refresh with rotation, and logout."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenViewBase

from accounts.serializers import LogoutSerializer, MeSerializer, TokenRefreshSerializer, UserSerializer
from accounts.throttles import AuthRateThrottle, RegisterRateThrottle
from oneonone.schema import ERROR_REF

THROTTLED = OpenApiResponse(
    ERROR_REF,
    description="Too many attempts from this address; retry after the time in the Retry-After header.",
    examples=[
        OpenApiExample("Throttled", value={"detail": "Request was throttled. Expected available in 42 seconds."})
    ],
)
BAD_TOKEN = OpenApiResponse(ERROR_REF, description="The token is invalid, expired, or revoked.")


@extend_schema_view(
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
class RegisterView(generics.CreateAPIView):
    serializer_class = UserSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegisterRateThrottle]


@extend_schema_view(
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
class LoginView(TokenObtainPairView):
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]


@extend_schema_view(
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
class RefreshView(TokenRefreshView):
    serializer_class = TokenRefreshSerializer
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]


class LogoutView(TokenViewBase):
    """Revoke a refresh token (blacklist it); the access token expires on its own."""

    serializer_class = TokenBlacklistSerializer
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        operation_id="auth_logout",
        summary="Log out",
        description="Blacklists the refresh token given, so it can no longer be refreshed. Answers 204.",
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="Revoked."), 401: BAD_TOKEN, 429: THROTTLED},
        examples=[OpenApiExample("Logout", value={"refresh": "<refresh token>"}, request_only=True)],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)  # validates and blacklists, or raises 400/401
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        operation_id="auth_me",
        summary="The current user",
        description="Who the access token (or session) belongs to.",
        tags=["auth"],
    )
)
class MeView(generics.RetrieveAPIView):
    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self):
        return self.request.user
