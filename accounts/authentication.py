"""simplejwt's JWTAuthentication, its user read by a statement written once instead of a queryset built anew.

Every authenticated request reads its user: through the ORM (`User.objects.get(id=...)`: build the
queryset, compile it, make the instance) that was 0.24 ms of CPU, the largest part of a 304 answer
(docs/performance.md); the same row through one statement and `Model.from_db` is 0.07 ms. Same checks,
same answers as simplejwt's `get_user` (401 "User not found", "User is inactive", a changed password
when CHECK_REVOKE_TOKEN is on), the same user instance (every concrete field loaded, converted as the
ORM converts them).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Field
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User

if TYPE_CHECKING:
    from django.db.models.sql.compiler import SQLCompiler


def _column(field: object) -> str:
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{field!r} is not a field with a column")
    return field.column


@functools.cache
def _statement(vendor: str) -> tuple[str, list[str], dict[Any, Any], SQLCompiler]:
    """The SELECT of one user by id, the attribute names of its columns, the ORM's converters for them and the
    compiler that applies them (built once, as the converters are)."""
    model = User
    fields = list(model._meta.concrete_fields)
    compiler = model.objects.all().query.get_compiler(connection=connection)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(field)) for field in fields)
    key = quote(_column(model._meta.get_field(api_settings.USER_ID_FIELD)))
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {key} = %s"  # noqa: S608 - names from the model
    converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
    return sql, [field.attname for field in fields], converters, compiler


def user_by_id(user_id: int) -> User | None:
    """The user with this id (as `User.objects.get(id=user_id)` loads it), or None; one statement."""
    sql, names, converters, compiler = _statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return User.from_db(connection.alias, names, row)


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]  # simplejwt: a TypeVar of no argument
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        # accounts.tokens.check_claims let through only a positive int, or its digits as a string.
        user = user_by_id(int(user_id))
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class JWTScheme(SimpleJWTScheme):
    """The schema's `jwtAuth` security scheme, as drf-spectacular writes it for simplejwt's class."""

    target_class = "accounts.authentication.JWTAuthentication"
