"""The pages: a template made in settings, previewed on a record, used from the record card."""

from __future__ import annotations

from kartoteka.documents.models import DocumentTemplate, GeneratedDocument


def test_settings_preview_card_and_download(logged_in, deal, media):
    _company, counterparty, _invoice = deal
    # a bad template is refused with its line and name, nothing saved
    page = logged_in.post(
        "/settings/documents/",
        {"table": "counterparties", "name": "КП", "body": "<p>\n{{ record.nosuch }}</p>"},
    )
    assert "Строка 2: у «record» нет поля «nosuch»" in page.content.decode()
    assert not DocumentTemplate.objects.filter(is_shipped=False).exists()
    # a good one is saved and opens in the editor
    page = logged_in.post(
        "/settings/documents/",
        {"table": "counterparties", "name": "КП", "body": "<p>{{ record.name }}</p>"},
    )
    template = DocumentTemplate.objects.get(is_shipped=False)
    assert page.status_code == 302 and page["Location"] == f"/settings/documents/{template.pk}/"
    # the preview fills what is typed from the chosen record
    preview = logged_in.post(
        f"/settings/documents/{template.pk}/preview/",
        {"body": "<b>{{ record.inn }}</b>", "record": str(counterparty.pk)},
    ).content.decode()
    assert f"&lt;b&gt;{counterparty.inn}&lt;/b&gt;" in preview
    errors = logged_in.post(
        f"/settings/documents/{template.pk}/preview/", {"body": "{{ config }}"}
    ).content.decode()
    assert "неизвестное имя «config»" in errors
    # the reference lists the table's placeholders with samples
    reference = logged_in.get("/settings/documents/reference/?table=counterparties")
    assert "record.inn" in reference.content.decode()
    # the card offers «Документы»; generating keeps the file on the record
    url = f"/records/counterparties/{counterparty.pk}/documents/"
    assert "КП" in logged_in.get(url).content.decode()
    done = logged_in.post(url, {"template": str(template.pk), "format": "html"})
    assert done.status_code == 302
    doc = GeneratedDocument.objects.get()
    card = logged_in.get(f"/t/counterparties/{counterparty.pk}/").content.decode()
    assert f"/records/documents/{doc.pk}/" in card
    download = logged_in.get(f"/records/documents/{doc.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"<p>" in download.content and counterparty.name.encode() in download.content


def test_a_kept_document_is_mailed_to_the_counterparty_and_logged_as_a_letter(
    logged_in, admin, deal, media, smtp, django_capture_on_commit_callbacks
):
    import email
    from email import policy

    from kartoteka.documents import services
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    _company, counterparty, invoice = deal
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")
    doc = services.generate_document(admin, act, invoice.pk, "html")
    status_before = counterparty.status
    with django_capture_on_commit_callbacks(execute=True):
        page = logged_in.post(f"/records/documents/{doc.pk}/send/", {"email": ""})
    assert page.status_code == 302
    assert len(smtp.messages) == 1
    _from, recipients, raw = smtp.messages[0]
    assert recipients == ["buh@romashka.example"]
    message = email.message_from_bytes(raw, policy=policy.default)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == doc.name
    work = model_for(Table.objects.get(key="client_work"))
    (letter,) = work.objects.filter(counterparty_id=counterparty.pk, work_type="letter")
    assert letter.done is True and letter.status is None
    assert letter.description == f"Отправлен документ «{doc.name}» на адрес buh@romashka.example"
    counterparties = model_for(Table.objects.get(key="counterparties"))
    assert counterparties.objects.get(pk=counterparty.pk).status == status_before
