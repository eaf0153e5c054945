"""Registration and the small user representation used in lists."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings

from accounts import services
from accounts.token_families import refresh_token_revoke, refresh_token_rotate
from accounts.tokens import RefreshToken
from accounts.validators import validate_email_address
from oneonone.timezones import TimeZoneField

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    """The spec's `User`: registration input; the response omits the passwords."""

    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        max_length=254,
        validators=[validate_email_address],
        help_text="Optional. A confirmation is mailed to it; notices reach it only once it is confirmed.",
    )
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}, trim_whitespace=False
    )
    password2 = serializers.CharField(
        write_only=True,
        max_length=128,
        style={"input_type": "password"},
        trim_whitespace=False,
        help_text="The password again; must match `password`.",
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", "password", "password2"]
        read_only_fields = ["id"]

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["password"] != attrs["password2"]:
            raise serializers.ValidationError({"password2": ["The two passwords do not match."]})
        candidate = User(username=attrs.get("username", ""), email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs

    def create(self, validated_data: dict):
        return services.user_register(
            username=validated_data["username"],
            email=validated_data.get("email", ""),
            password=validated_data["password"],
        )


class UserSummarySerializer(serializers.ModelSerializer):
    """A user as other users see them: id and username."""

    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user; `email` and `timezone` can be changed (PATCH).

    Every field is always answered, so the `Me` component requires them all (typed clients need no check);
    the only input is a PATCH, which is partial (`PatchedMe`), so a client never has to send them.
    """

    email = serializers.EmailField(
        allow_blank=True,
        max_length=254,
        validators=[validate_email_address],
        help_text="A new address is mailed a confirmation and receives notices once confirmed.",
    )
    email_verified = serializers.BooleanField(
        read_only=True, help_text="Whether `email` is confirmed; notices are mailed only to a confirmed address."
    )
    timezone = TimeZoneField(
        allow_blank=True,
        help_text=(
            "IANA zone the times in my emails are written in (with the calendar's zone beside them when they "
            "differ). Empty: each calendar's own zone."
        ),
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", "email_verified", "timezone"]
        read_only_fields = ["id", "username", "email_verified"]

    def update(self, instance, validated_data: dict):
        return services.user_update_profile(user=instance, **validated_data)


class EmailVerifySerializer(serializers.Serializer):
    """The secret from the confirmation email."""

    token = serializers.CharField(max_length=200, help_text="The token from the confirmation email.")


class EmailResentSerializer(serializers.Serializer):
    """A new confirmation is on its way."""

    email = serializers.EmailField(read_only=True, help_text="Where it was sent.")
    expires_at = serializers.DateTimeField(read_only=True, help_text="When the new link stops working.")


class AccountDeleteSerializer(serializers.Serializer):
    """The password again, to delete my account."""

    password = serializers.CharField(
        write_only=True,
        max_length=128,
        style={"input_type": "password"},
        trim_whitespace=False,
        help_text="My current password; a wrong one answers 400 and nothing changes.",
    )


class ExportProfileSerializer(serializers.ModelSerializer):
    """My account as stored: the `profile` section of the export."""

    email_verified = serializers.BooleanField(read_only=True, help_text="Whether `email` is confirmed.")

    class Meta:
        model = User
        fields = ["id", "username", "email", "email_verified", "date_joined", "last_login"]
        read_only_fields = fields


class AccountExportSerializer(serializers.Serializer):
    """Everything the service holds about me, one section per area; secrets are never included."""

    # The sections are registered by the apps that hold the data (accounts.export), so the fields are
    # read from that registry when the serializer is used (the schema is made after every app is ready).
    exported_at = serializers.DateTimeField(read_only=True, help_text="When this document was made.")

    def get_fields(self):
        from accounts.export import sections

        fields = super().get_fields()
        for section in sections():
            fields[section.name] = section.schema()
        return fields


class LogoutSerializer(serializers.Serializer):
    """Logout: the refresh token sent, and every other refresh token of the same login, is revoked."""

    refresh = serializers.CharField(write_only=True, help_text="The refresh token to revoke.")

    def validate(self, attrs):
        # A token already revoked is revoked again, quietly (RFC 7009: the client cannot do better);
        # one that is not ours, or expired, is a 401.
        refresh_token_revoke(token=RefreshToken(attrs["refresh"]))
        return {}


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """A new token pair; the refresh token sent is revoked, and sending a revoked one revokes its login's."""

    token_class = RefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user = User.objects.filter(**{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}).first()
        if not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        successor = refresh_token_rotate(token=refresh)
        return {"access": str(successor.access_token), "refresh": str(successor)}
