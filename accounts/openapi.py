"""The OpenAPI documentation of the auth endpoints, applied to the views in accounts/views.py by name."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.serializers import (
    AccountDeleteSerializer,
    AccountExportSerializer,
    EmailResentSerializer,
    EmailVerifySerializer,
    LogoutSerializer,
    MeSerializer,
    TokenRefreshSerializer,
    UserSerializer,
)
from accounts.services import REFUSED_CONFIRMATION, WRONG_PASSWORD
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
            "token. The refresh token sent is revoked (rotation): using it again answers 401, and "
            "revokes every refresh token of the same login (reuse detection)."
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
    description=(
        "Revokes the refresh token given and every other refresh token of the same login, so none can be "
        "refreshed. Answers 204, also for a token already revoked."
    ),
    request=LogoutSerializer,
    responses={204: OpenApiResponse(description="Revoked."), 401: BAD_TOKEN, 429: THROTTLED},
    examples=[OpenApiExample("Logout", value={"refresh": "<refresh token>"}, request_only=True)],
    tags=["auth"],
)


class BodyOnDeleteSchema(AutoSchema):
    """drf-spectacular documents a request body for POST, PUT and PATCH only; `DELETE /auth/me/` takes one
    (the password), which OpenAPI 3.0 allows."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


USER_THROTTLED = OpenApiResponse(
    ERROR_REF,
    description="Too many attempts by this user; retry after the time in the Retry-After header.",
    examples=[
        OpenApiExample("Throttled", value={"detail": "Request was throttled. Expected available in 600 seconds."})
    ],
)

me = extend_schema_view(
    get=extend_schema(
        operation_id="auth_me",
        summary="The current user",
        description="Who the access token (or session) belongs to, whether their address is confirmed, their zone.",
        tags=["auth"],
    ),
    patch=extend_schema(
        operation_id="auth_me_update",
        summary="Change my address or time zone",
        description=(
            '`timezone`: the IANA zone my emails speak in (`""` to follow each calendar\'s zone). `email`: a new '
            "address, mailed a confirmation (`email_verified` is false until it is confirmed, and notices wait "
            "for it). Other fields are read-only."
        ),
        examples=[
            OpenApiExample("My zone", value={"timezone": "America/New_York"}, request_only=True),
            OpenApiExample(
                "Me",
                value={
                    "id": 7,
                    "username": "zoe",
                    "email": "zoe@example.com",
                    "email_verified": True,
                    "timezone": "America/New_York",
                },
                response_only=True,
            ),
        ],
        tags=["auth"],
    ),
    delete=extend_schema(
        operation_id="auth_me_delete",
        summary="Delete my account",
        description=(
            "Deletes my account and everything it owns, in one transaction, after checking my password "
            "(a wrong one answers 400 and nothing changes): the calendars I created (their participants are "
            "told by email, through the queue), my timeslots, invitations, contacts, webhooks, feed token, and "
            "my tokens: every refresh token is revoked, and access tokens stop working at once (401, the user "
            "is gone). Throttled per user (`ACCOUNT_DELETE_THROTTLE_RATE`). See docs/auth.md."
        ),
        request=AccountDeleteSerializer,
        responses={204: OpenApiResponse(description="Deleted."), 429: USER_THROTTLED},
        examples=[
            OpenApiExample("Delete", value={"password": "my-current-passw0rd"}, request_only=True),
            OpenApiExample(
                "Wrong password", value={"password": [WRONG_PASSWORD]}, response_only=True, status_codes=["400"]
            ),
        ],
        tags=["auth"],
    ),
)


export = extend_schema_view(
    get=extend_schema(
        operation_id="auth_me_export",
        summary="Export my data",
        description=(
            "One JSON document of everything the service holds about me: my profile, my contacts (with "
            "usernames), the calendars I created (in full, with their invitations), the calendars I take part "
            "in (what a participant sees, with my own timeslots), the invitations addressed to me, my webhooks "
            "(without their secrets) and whether I have a feed token. Sent as an attachment "
            "(`Content-Disposition`). Throttled per user (`ACCOUNT_EXPORT_THROTTLE_RATE`, 5 an hour)."
        ),
        responses={200: OpenApiResponse(AccountExportSerializer, description="My data."), 429: USER_THROTTLED},
        tags=["auth"],
    )
)


email_verify = extend_schema_view(
    post=extend_schema(
        operation_id="auth_email_verify",
        summary="Confirm my email address",
        description=(
            "Posts the token from the confirmation email (sent at registration, and by `POST /auth/email/resend/`). "
            "The token works once and expires (48 hours by default); it confirms the address it was sent to, "
            "as long as the account still has that address. No login needed. Answers the user, with "
            "`email_verified: true`. Notices (meetings fixed, invitations, reminders) are mailed only to a "
            "confirmed address. Throttled per client address like the login."
        ),
        request=EmailVerifySerializer,
        responses={
            200: OpenApiResponse(MeSerializer, description="Confirmed."),
            429: THROTTLED,
        },
        examples=[
            OpenApiExample(
                "Confirm", value={"token": "3q2-7wEj3S0ntD6tBYOc1lNVbq1HR0EBhnhQJ9cVm9Y"}, request_only=True
            ),
            OpenApiExample(
                "Refused",
                value={"token": [REFUSED_CONFIRMATION]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=["auth"],
    )
)


email_resend = extend_schema_view(
    post=extend_schema(
        operation_id="auth_email_resend",
        summary="Send a new confirmation email",
        description=(
            "Mails a new confirmation of my current address (earlier links keep working until they expire). "
            "409 when I have no address or it is confirmed already. Throttled per user "
            "(`EMAIL_RESEND_THROTTLE_RATE`, 3 an hour). No request body."
        ),
        request=None,
        responses={
            202: OpenApiResponse(EmailResentSerializer, description="On its way."),
            409: OpenApiResponse(ERROR_REF, description="No address to confirm, or it is confirmed already."),
            429: THROTTLED,
        },
        tags=["auth"],
    )
)
