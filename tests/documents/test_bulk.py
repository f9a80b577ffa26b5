"""Documents of many records: one ZIP; a record that fails is named and the others come out."""

from __future__ import annotations

import io
import zipfile

import pytest

from kartoteka.core.exceptions import KartotekaError
from kartoteka.documents import bulk
from kartoteka.documents.models import DocumentBatch, DocumentTemplate, GeneratedDocument
from kartoteka.records.models import RecordChange


@pytest.fixture
def invoices(deal):
    from tests.crm.test_invoices import make_invoice

    _company, counterparty, first = deal
    more = [
        make_invoice(counterparty, [("Услуга", 1, "шт", 100 * n)], number=f"B-{n}")
        for n in range(1, 5)
    ]
    return [first, *more]


def names_in(path_or_bytes) -> dict[str, bytes]:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_five_acts_come_out_in_one_zip_and_a_missing_record_is_named(admin, invoices, media):
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")
    ids = [i.pk for i in invoices] + [999_999]
    result = bulk.make_zip_now(admin, act, ids, "html")
    files = names_in(result.path)
    acts = sorted(n for n in files if n.endswith(".html"))
    assert len(acts) == 5
    assert any("B-3" in files[n].decode() for n in acts)
    assert result.errors == [{"id": 999_999, "message": "Запись №999999 не найдена."}]
    assert files["ОШИБКИ.txt"].decode() == "Запись №999999: Запись №999999 не найдена.\n"
    # each act is also kept on its invoice, with a history entry
    kept = GeneratedDocument.objects.filter(template=act).order_by("record_id")
    assert [d.record_id for d in kept] == sorted(i.pk for i in invoices)
    assert {d.name for d in kept} == set(acts)
    assert (
        RecordChange.objects.filter(
            table=act.table, source="document", record_id__in=[i.pk for i in invoices]
        ).count()
        == 5
    )


def test_over_twenty_records_run_as_a_background_batch_with_progress(
    admin, invoices, media, django_capture_on_commit_callbacks
):
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")
    ids = [i.pk for i in invoices] * 5  # 25 documents
    with pytest.raises(KartotekaError):
        bulk.make_zip_now(admin, act, ids, "html")
    with django_capture_on_commit_callbacks() as callbacks:
        batch = bulk.start_batch(admin, act, ids, "html")
    assert len(callbacks) == 1 and batch.status == "pending"
    done = bulk.run_batch(batch.pk)
    assert (done.status, done.done, done.percent, done.errors) == ("done", 25, 100, [])
    from django.core.files.storage import default_storage

    with default_storage.open(done.file, "rb") as fh:
        files = names_in(fh.read())
    assert len(files) == 25


def test_the_grid_button_gives_the_zip_and_the_batch_page_its_progress(
    logged_in, invoices, media, monkeypatch
):
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")
    ids = [str(i.pk) for i in invoices]
    choose = logged_in.post("/records/invoices/documents/bulk/", {"ids": ids})
    assert "Акт выполненных работ" in choose.content.decode()
    response = logged_in.post(
        "/records/invoices/documents/bulk/",
        {"ids": ids, "template": str(act.pk), "format": "html"},
    )
    assert response["Content-Type"] == "application/zip"
    assert len(names_in(response.content)) == 5
    monkeypatch.setattr(bulk, "SYNC_LIMIT", 3)  # five records are «many» now
    big = logged_in.post(
        "/records/invoices/documents/bulk/",
        {"ids": ids, "template": str(act.pk), "format": "html"},
    )
    batch = DocumentBatch.objects.get()
    assert big["Location"] == f"/records/documents/batches/{batch.pk}/"
    page = logged_in.get(big["Location"]).content.decode()
    assert 'data-status="pending"' in page and "0 из 5" in page
