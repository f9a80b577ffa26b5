"""The settings of one import (also what an import template stores), as a plain dataclass.

``ImportSettings.to_json()``/``from_json()`` give the JSON kept on a batch and in a template; the
CLI, the service and the wizard build the same object.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.imports.readers import FileOptions, ImportFileError

ON_DUPLICATE = ("update", "skip")


@dataclass
class ColumnMapping:
    """File column ``column`` (0-based; ``header`` its name when the file has a header row)
    feeds field ``field``. Several columns may feed one text field; they are joined by a space."""

    column: int
    field: str
    header: str = ""


@dataclass
class ImportSettings:
    encoding: str = "auto"
    delimiter: str = "auto"
    header: bool = True
    sheet: int = 0
    #: The 1-based row (among non-empty rows) with the column names; 0 finds it.
    header_row: int = 0
    #: Empty: columns map by header names (field label or key, case-insensitive).
    mapping: list[ColumnMapping] = field(default_factory=list)
    #: The field that identifies a record (empty: the table's unique field, if any).
    key: str = ""
    on_duplicate: str = "update"
    #: «Приоритет заполненных перед пустыми»: an empty cell never blanks a filled value.
    keep_filled: bool = True
    #: Values of created records for fields the file leaves empty (field key → text).
    defaults: dict[str, str] = field(default_factory=dict)
    #: Create target records for link values that match no record's title.
    create_missing_links: bool = False

    def file_options(self) -> FileOptions:
        return FileOptions(
            encoding=self.encoding,
            delimiter=self.delimiter,
            header=self.header,
            sheet=self.sheet,
            header_row=self.header_row,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportSettings:
        data = dict(data or {})
        mapping = [ColumnMapping(**m) for m in data.pop("mapping", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        settings = cls(mapping=mapping, **known)
        settings.check()
        return settings

    def check(self) -> None:
        if self.on_duplicate not in ON_DUPLICATE:
            raise ImportFileError(
                _("Для повторов допустимо «update» (обновить) или «skip» (пропустить).")
            )
        if self.sheet < 0:
            raise ImportFileError(_("Номер листа не может быть отрицательным."))
        if self.header_row < 0:
            raise ImportFileError(_("Номер строки заголовка не может быть отрицательным."))
