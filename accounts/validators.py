"""Email addresses that are safe to write to: no control characters and no quoted local parts.

Django's EmailValidator accepts a quoted local part with control characters in it
(`"x\\u000bBcc:..."@example.com`, RFC 5321 allows it); such an address breaks mail headers and
made a whole batch fail once. Every place an address enters (registration, the profile, the admin)
runs this, through the model field and the serializers.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

MESSAGE = "Enter an email address without quotes, spaces or control characters."


def validate_email_address(value: str) -> None:
    """Beside an EmailField's own check: refuse what is valid by the RFC but unsafe in a header."""
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value) or '"' in value or "\\" in value:
        raise ValidationError(MESSAGE, code="invalid")
