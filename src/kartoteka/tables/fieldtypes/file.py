"""File attachment («Файл»): the stored value is the file's name in the media storage.

Uploads are saved by the records service under ``<table key>/<field key>/``. Text input (an import
cell, the API) is only a name: here it is normalised and a path outside the storage refused; the
records service then accepts it only if the writer may already read that file (a record of his in
the same field holds it), so naming someone else's file never makes it readable. Files are served
by the record that holds them (``web/files.py``).
"""

from __future__ import annotations

import posixpath
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

MAX_UPLOAD_BYTES = 25 * 1024 * 1024


class FileType(FieldType):
    key = "file"
    label = _("Файл")
    operators = ("empty", "not_empty")
    sortable = False

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=500, null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        name = text.strip().replace("\\", "/")
        if not name:
            return None
        normalized = posixpath.normpath(name)
        if normalized.startswith(("/", "..")) or "/../" in f"/{normalized}/" or "\x00" in name:
            raise invalid(
                _("«%(value)s» — недопустимое имя файла."), code="bad_file_name", value=text
            )
        return normalized

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, UploadedFile):
            if value.size and value.size > MAX_UPLOAD_BYTES:
                raise invalid(
                    _("Файл «%(name)s» больше 25 МБ."), code="file_too_large", name=value.name
                )
            return value  # saved to storage by the records service
        return self.parse(field, str(value))

    def display(self, field: Any, value: Any) -> str:
        return "" if not value else posixpath.basename(str(value))

    def to_json(self, field: Any, value: Any) -> Any:
        if isinstance(value, UploadedFile):
            return value.name
        return value

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        return forms.FileField(**self._form_kwargs(field, kwargs) | {"required": False})

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, required=False, **kwargs)
