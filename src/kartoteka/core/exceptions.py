"""Domain errors with stable codes.

Views map them to form errors or JSON in one place each; the ``code`` is what the API returns and
what tests assert, the message is for people and is translated.
"""

from __future__ import annotations

from dataclasses import dataclass


class KartotekaError(Exception):
    """Base of all domain errors; ``code`` is stable, ``message`` is for people."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass
class FieldError:
    """One problem with one value of one row of a batch."""

    field: str
    message: str
    code: str = "invalid"
    row: int = 0
    value: object = None


class RecordValidationError(KartotekaError):
    """Values of a batch were refused; nothing of the batch was written."""

    code = "validation"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        text = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        super().__init__(text)

    def for_row(self, row: int) -> list[FieldError]:
        return [e for e in self.errors if e.row == row]


class RuleViolation(KartotekaError):
    """A business rule refused the operation; ``rule`` names it."""

    code = "rule_violation"

    def __init__(self, rule: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field


class PermissionDenied(KartotekaError):
    code = "permission_denied"


class NotFound(KartotekaError):
    code = "not_found"


class SchemaError(KartotekaError):
    """A table or field change that cannot be made (e.g. a retype with no converter)."""

    code = "schema"
