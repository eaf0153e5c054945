"""Registration, JWT login, refresh with rotation, logout, the current user, and its export and deletion.

The API documentation of each view is in accounts.openapi.
"""

from __future__ import annotations

from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenViewBase

from accounts import export, openapi, services
from accounts.serializers import (
    AccountDeleteSerializer,
    EmailResentSerializer,
    EmailVerifySerializer,
    LogoutSerializer,
    MeSerializer,
    TokenRefreshSerializer,
    UserSerializer,
)
from accounts.throttles import (
    AccountDeleteThrottle,
    AccountExportThrottle,
    AuthRateThrottle,
    EmailResendThrottle,
    RegisterRateThrottle,
)
from idempotency.views import IdempotentWrites


@openapi.register
class RegisterView(generics.CreateAPIView):
    serializer_class = UserSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegisterRateThrottle]


@openapi.login
class LoginView(TokenObtainPairView):
    authentication_classes = ()
    throttle_classes = [AuthRateThrottle]


@openapi.refresh
class RefreshView(TokenRefreshView):
    serializer_class = TokenRefreshSerializer
    authentication_classes = ()
    throttle_classes = [AuthRateThrottle]


class LogoutView(TokenViewBase):
    """Revoke the refresh tokens of a login (accounts/token_families.py); the access token expires on its own."""

    serializer_class = LogoutSerializer
    authentication_classes = ()
    throttle_classes = [AuthRateThrottle]

    @openapi.logout
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)  # validates and blacklists, or raises 400/401
        return Response(status=status.HTTP_204_NO_CONTENT)


@openapi.me
class MeView(IdempotentWrites, generics.RetrieveUpdateAPIView):
    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]
    # A partial change (PATCH) or the whole account (DELETE): PUT would have to resend the read-only fields.
    http_method_names = ["get", "patch", "delete", "head", "options"]
    schema = openapi.BodyOnDeleteSchema()

    def get_object(self):
        return self.request.user

    def get_throttles(self):
        if self.request.method == "DELETE":
            return [AccountDeleteThrottle()]
        return super().get_throttles()

    def delete(self, request, *args, **kwargs):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_delete(user=request.user, password=serializer.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@openapi.export
class AccountExportView(APIView):
    """Everything about me, as one JSON document (accounts.export)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AccountExportThrottle]

    def get(self, request):
        filename = f"oneonone-export-{request.user.pk}.json"
        return Response(
            export.export_of(request.user), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )


@openapi.email_verify
class EmailVerifyView(APIView):
    """Confirm an address with the token mailed to it; no login needed (the token is the proof)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    def post(self, request):
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_verify(token=serializer.validated_data["token"])
        return Response(MeSerializer(user).data)


@openapi.email_resend
class EmailResendView(IdempotentWrites, APIView):
    """Mail a new confirmation of my address."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [EmailResendThrottle]

    def post(self, request):
        verification = services.email_verification_send(user=request.user)
        return Response(EmailResentSerializer(verification).data, status=status.HTTP_202_ACCEPTED)
