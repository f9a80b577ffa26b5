"""The registry of field types. Each type lives in its own module; see :mod:`.base`."""

from __future__ import annotations

from kartoteka.core.registry import Registry

from .base import FieldType

field_types: Registry[FieldType] = Registry("field_types")


def register_field_types() -> None:
    """Fill :data:`field_types`; called once from ``TablesConfig.ready()``."""
    from .boolean import BooleanType
    from .choice import ChoiceType
    from .date import DateType
    from .datetime import DateTimeType
    from .decimal import DecimalType
    from .email import EmailType
    from .file import FileType
    from .integer import IntegerType
    from .link import LinkType
    from .long_text import LongTextType
    from .money import MoneyType
    from .multi_choice import MultiChoiceType
    from .phone import PhoneType
    from .text import TextType
    from .url import UrlType
    from .user import UserType

    for cls in (
        TextType,
        LongTextType,
        IntegerType,
        DecimalType,
        MoneyType,
        DateType,
        DateTimeType,
        BooleanType,
        ChoiceType,
        MultiChoiceType,
        LinkType,
        UserType,
        EmailType,
        PhoneType,
        UrlType,
        FileType,
    ):
        if cls.key not in field_types:
            field_types.register(cls.key, cls())


__all__ = ["FieldType", "field_types", "register_field_types"]
