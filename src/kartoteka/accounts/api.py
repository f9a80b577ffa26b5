"""``/api/v1/users/``: the log-ins for administrators (and «Управление сотрудниками») — list,
create (with the «Сотрудники» record), disable. Thin views over
:mod:`kartoteka.accounts.services`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kartoteka.accounts import services
from kartoteka.api.idempotency import run_idempotent
from kartoteka.api.views import ERRORS, IDEMPOTENCY, WRITE_ERRORS, ApiView
from kartoteka.core.exceptions import NotFound
from kartoteka.tables.fieldtypes.link import MAX_ID


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(help_text="Фамилия Имя Отчество")
    short_name = serializers.CharField(help_text="Фамилия И. О.")
    email = serializers.CharField()
    group = serializers.CharField()
    is_active = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)
    failed_logins = serializers.IntegerField(help_text="Неудачных входов за 7 дней")


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)
    group = serializers.CharField(max_length=150)
    full_name = serializers.CharField(max_length=500, required=False, default="")
    email = serializers.EmailField(max_length=254, required=False, default="")
    phone = serializers.CharField(max_length=50, required=False, default="")
    position = serializers.CharField(max_length=255, required=False, default="")


USER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _user_json(actor: Any, pk: int) -> dict[str, Any]:
    return next(row for row in services.list_users(actor) if row["id"] == pk)


class UsersView(ApiView):
    @extend_schema(
        operation_id="users_list",
        summary="Пользователи",
        description="Учётные записи: группа, доступ, последний вход, неудачные входы за неделю.",
        responses={200: UserSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(services.list_users(self.actor()))

    @extend_schema(
        operation_id="users_create",
        summary="Создать пользователя",
        description="Учётная запись с записью в «Сотрудниках»; пароль проверяется правилами.",
        parameters=[IDEMPOTENCY],
        request=UserCreateSerializer,
        responses={201: UserSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            actor = self.actor()
            data = UserCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            user = services.create_user(actor, **data.validated_data)
            return Response(_user_json(actor, user.pk), status=status.HTTP_201_CREATED)

        return run_idempotent(request, create)


class UserDisableView(ApiView):
    @extend_schema(
        operation_id="users_disable",
        summary="Отключить доступ",
        description=(
            "Сеансы пользователя завершаются, его токены сразу перестают действовать (401); "
            "записи и история остаются. Последнего администратора отключить нельзя."
        ),
        parameters=[USER_ID, IDEMPOTENCY],
        request=None,
        responses={200: UserSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        def disable() -> Response:
            actor = self.actor()
            services.require_manager(actor)
            user = get_user_model().objects.filter(pk=pk).first() if pk <= MAX_ID else None
            if user is None:
                raise NotFound(_("Пользователь №%(pk)s не найден.") % {"pk": pk})
            services.disable_user(actor, user)
            return Response(_user_json(actor, user.pk))

        return run_idempotent(request, disable)
