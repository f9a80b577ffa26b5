"""Document benchmark: a DOCX from a 20-line invoice and an HTML → PDF, beside the raw renderers.

    .venv/bin/python benchmarks/documents.py [--runs 20] [--bulk 0]

1. «DOCX»: the shipped-style contract template (docxtpl) filled from an invoice with 20 lines —
   reading the invoice, its lines, the counterparty and the company through the selectors with
   rights, then docxtpl in the sandbox — against docxtpl alone rendering the same file from a
   plain dict of the same values (no database, default Jinja environment).
2. «HTML → PDF»: the shipped «Акт выполненных работ» from the same invoice against WeasyPrint
   alone writing the already-rendered HTML.
3. Optionally ``--bulk N``: N documents in a row (made, not kept) and the peak RSS.

Targets (issue 13): one DOCX ≤ 300 ms, one HTML → PDF ≤ 1 s. Prints medians and p95.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import time

from _env import drop_database, setup_django


def timed(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--bulk", type=int, default=0)
    args = parser.parse_args()
    created = setup_django()
    try:
        run(args)
    finally:
        drop_database(created)


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from docxtpl import DocxTemplate
    from weasyprint import HTML

    from kartoteka.core.actor import Actor
    from kartoteka.core.validators import inn_control_digits
    from kartoteka.crm.setup import sync
    from kartoteka.documents import rendering, services
    from kartoteka.documents.models import DocumentTemplate
    from kartoteka.records.services import create_records
    from kartoteka.tables.models import Table

    call_command("migrate", verbosity=0)
    sync()
    system = Actor.system("bench")
    t = lambda key: Table.objects.get(key=key)  # noqa: E731
    create_records(
        system,
        t("companies"),
        [
            {
                "name": "ООО «Картотека»",
                "inn": inn_control_digits("770412345"),
                "director": "Орлов Сергей Петрович",
                "is_default": True,
            }
        ],
    )
    cp = create_records(
        system,
        t("counterparties"),
        [{"name": "ООО «Ромашка»", "inn": inn_control_digits("500112345")}],
    )[0]
    invoice = create_records(system, t("invoices"), [{"number": "B-1", "counterparty": cp.pk}])[0]
    create_records(
        system,
        t("invoice_items"),
        [
            {"invoice": invoice.pk, "name": f"Позиция {i}", "quantity": 2, "price": "1500.00"}
            for i in range(20)
        ],
    )
    lines = [
        "Счёт № {{ record.number }} от {{ record.date|long_date }}",
        "{{ record.counterparty.name }}, ИНН {{ record.counterparty.inn }}",
        "{% for item in record.invoice_items %}",
        "{{ item.name }} {{ item.quantity }} × {{ item.price|money }}",
        "{% endfor %}",
        "Итого {{ record.total|amount_words }}; {{ company.director|genitive }}",
    ]
    source = docx_of(lines)
    raw_source = docx_of(
        [re.sub(r"\|(long_date|money|amount_words|genitive)", "", line) for line in lines]
    )
    admin = Actor.system("bench")
    template = services.save_template(
        Actor.for_user(_admin()), t("invoices"), name="Бенч", kind="docx", docx=source
    )
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")

    ours_docx = timed(
        lambda: services.make_document(admin, template, invoice.pk, "docx", number="1"), args.runs
    )
    plain = {
        "record": {
            "number": "B-1",
            "date": "7 декабря 2026 г.",
            "counterparty": {"name": "ООО «Ромашка»", "inn": inn_control_digits("500112345")},
            "invoice_items": [
                {"name": f"Позиция {i}", "quantity": 2, "price": "1 500,00"} for i in range(20)
            ],
            "total": "Шестьдесят тысяч рублей 00 копеек",
        },
        "company": {"director": "Орлова Сергея Петровича"},
    }

    def raw_docx() -> None:
        tpl = DocxTemplate(io.BytesIO(raw_source))
        tpl.render(plain)
        tpl.save(io.BytesIO())

    raw_docx_t = timed(raw_docx, args.runs)
    html = rendering.render_html(
        act.body, services.document_context(admin, act, invoice.pk, number="1")
    )
    ours_pdf = timed(
        lambda: services.make_document(admin, act, invoice.pk, "pdf", number="1"),
        max(5, args.runs // 2),
    )
    raw_pdf = timed(lambda: HTML(string=html).write_pdf(), max(5, args.runs // 2))
    print("| one document | ours median / p95 | raw renderer alone median / p95 | target |")
    print("|---|---|---|---|")
    print(
        f"| DOCX, 20-line invoice | {ours_docx[0]:.0f} / {ours_docx[1]:.0f} ms "
        f"| docxtpl {raw_docx_t[0]:.0f} / {raw_docx_t[1]:.0f} ms | 300 ms |"
    )
    print(
        f"| HTML → PDF (act, 20 lines) | {ours_pdf[0]:.0f} / {ours_pdf[1]:.0f} ms "
        f"| WeasyPrint {raw_pdf[0]:.0f} / {raw_pdf[1]:.0f} ms | 1 s |"
    )
    if os.environ.get("KARTOTEKA_BENCH_PROFILE"):
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            for _ in range(5):
                services.make_document(admin, template, invoice.pk, "docx", number="1")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    if args.bulk:
        start = time.perf_counter()
        for _ in range(args.bulk):
            services.make_document(admin, template, invoice.pk, "docx", number="1")
        spent = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bulk: {args.bulk} DOCX in {spent:.1f} s, peak RSS {peak:.0f} MB")


def docx_of(lines: list[str]) -> bytes:
    from docx import Document

    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _admin():
    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import ADMIN_GROUP, Actor

    return create_user(
        Actor.system("bench"),
        username="bench",
        password="x",
        group=ADMIN_GROUP,
        check_password=False,
    )


if __name__ == "__main__":
    main()
