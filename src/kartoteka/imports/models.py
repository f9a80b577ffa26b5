"""Import batches (one per import, with its report and progress) and import templates."""

from __future__ import annotations

from django.conf import settings as conf
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.leases import LeasedJob
from kartoteka.tables.models import Table


class FileJob(LeasedJob):
    """What the import's background jobs share: the file, the settings, progress and timing,
    and the lease that tells a job whose process died (:mod:`kartoteka.core.leases`)."""

    file_name = models.CharField(max_length=255)
    settings = models.JSONField(default=dict)
    message = models.TextField(blank=True, default="")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-id"]


class ImportBatch(FileJob):
    """One import of one file into one table: its settings, progress and report.

    What the import wrote is in the records' history under the source ``import#<id>``
    (:attr:`source`): undo reads it from there, so nothing per record is stored twice.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDOING = "undoing"
    UNDONE = "undone"
    #: The process running it died (``kill -9``, a lost machine): the chunks it committed stay,
    #: the batch may be undone or resumed from :attr:`next_row`.
    INTERRUPTED = "interrupted"
    STATUSES = [
        (PENDING, _("в очереди")),
        (RUNNING, _("выполняется")),
        (DONE, _("выполнен")),
        (FAILED, _("не выполнен")),
        (UNDOING, _("отменяется")),
        (UNDONE, _("отменён")),
        (INTERRUPTED, _("прервано")),
    ]

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: The uploaded file in the default storage (kept for the background job and re-reading).
    file_path = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    #: The first errors: ``[{"row": n, "column": "…", "message": "…"}]`` (all are in the file).
    errors = models.JSONField(default=list, blank=True)
    #: The bad rows with the reason per row, a CSV in the default storage.
    errors_file = models.CharField(max_length=500, blank=True, default="")
    undo_report = models.JSONField(default=dict, blank=True)
    #: Records the undo of the batch goes through (shown while it runs in the background).
    undo_total = models.PositiveIntegerField(default=0)
    #: What the committed chunks reached, written in their transactions: ``rows`` (data rows of
    #: the file done), ``errors_bytes`` (the bad-rows file's committed size), ``source`` (the
    #: path of a file imported from the command line), ``before_undo`` (the status an undo
    #: under way returns to if its process dies).
    checkpoint = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"import#{self.pk} {self.file_name}"

    @property
    def source(self) -> str:
        """The history source of every change this import made."""
        return f"import#{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.DONE, self.FAILED, self.UNDONE, self.INTERRUPTED)

    @property
    def next_row(self) -> int:
        """The file's row a resumed import starts from (the first not committed)."""
        header = 1 if self.settings.get("header", True) else 0
        return int(self.checkpoint.get("rows", 0)) + header + 1


class ImportCheck(FileJob):
    """A dry run of a big file, run by the background worker while the wizard shows its progress.

    ``result`` holds the totals and the first rows one by one (see
    :func:`kartoteka.imports.checks.result_of`); a check belongs to one user's upload with one
    set of settings, and a new one replaces it when the settings change.
    """

    PENDING = ImportBatch.PENDING
    RUNNING = ImportBatch.RUNNING
    DONE = ImportBatch.DONE
    FAILED = ImportBatch.FAILED
    INTERRUPTED = ImportBatch.INTERRUPTED
    STATUSES = [*ImportBatch.STATUSES[:4], ImportBatch.STATUSES[-1]]

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(conf.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: The wizard's copy of the upload in the default storage.
    file_path = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"import-check#{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.DONE, self.FAILED, self.INTERRUPTED)


class ImportTemplate(models.Model):
    """Named settings of an import («шаблон импорта») for a table; ``headers`` are the file's
    column names when it was saved, so a file with the same header suggests the template."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("название"), max_length=200)
    settings = models.JSONField(default=dict)
    headers = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["table", "name"], name="one_import_template_name")
        ]

    def __str__(self) -> str:
        return self.name
