"""Registration and the small user representation used in lists."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers

from accounts import services
from accounts.validators import validate_email_address

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
    """The signed-in user."""

    email_verified = serializers.BooleanField(
        read_only=True, help_text="Whether `email` is confirmed; notices are mailed only to a confirmed address."
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", "email_verified"]
        read_only_fields = fields


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
    refresh = serializers.CharField(write_only=True, help_text="The refresh token to revoke.")


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's refresh; the token of a deleted user is refused (401) like a deactivated user's."""

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except User.DoesNotExist as exc:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from exc
