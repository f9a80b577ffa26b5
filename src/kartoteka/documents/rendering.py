"""Turning a filled template into a file: HTML → PDF (WeasyPrint), DOCX (docxtpl), DOCX → PDF
(LibreOffice in headless mode, in a temporary directory with a time limit).

Everything runs in the template sandbox (:mod:`kartoteka.templating`); WeasyPrint may fetch
``data:`` URIs only, so a document never reaches the network or the file system.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from kartoteka.imports.readers import ImportFileError, check_archive_parts
from kartoteka.templating import TemplateProblem, TemplateRefused, docx_environment, render
from kartoteka.templating.engine import problem_of, static_problems

SOFFICE_TIMEOUT = 120
#: Where Debian's libreoffice-writer-nogui puts the program; ``PATH`` is tried first.
SOFFICE_FALLBACK = "/usr/bin/soffice"
MAX_DOCX_BYTES = 20 << 20

PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title>
<style>@page {{ size: A4; margin: 15mm }} body {{ font-family: "DejaVu Sans", sans-serif;
font-size: 11pt; line-height: 1.35 }} table {{ border-collapse: collapse }}</style>
</head><body>
{body}
</body></html>"""


class DocumentError(TemplateRefused):
    """A document could not be made (a template problem, a broken file, LibreOffice missing)."""

    code = "document"


def soffice() -> str | None:
    """The LibreOffice program, or ``None`` when it is not installed (DOCX only, no PDF)."""
    found = shutil.which("soffice")
    if found:
        return found
    return SOFFICE_FALLBACK if os.access(SOFFICE_FALLBACK, os.X_OK) else None


def render_html(body: str, context: Mapping[str, Any], *, title: str = "") -> str:
    """The HTML template filled in; a fragment is wrapped into an A4 page."""
    html = render(body, context, html=True)
    if "<html" in html[:500].lower():
        return html
    from django.utils.html import escape

    return PAGE.format(title=escape(title), body=html)


def html_to_pdf(html: str) -> bytes:
    """HTML as an A4 PDF (WeasyPrint); only ``data:`` URIs may be fetched."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())


def check_docx_file(data: bytes) -> None:
    """Refuse a file that is not a sane Word document: too big, not a zip, a zip or XML bomb
    (the import's guards), no ``word/document.xml``. ``DocumentError`` says why."""
    if len(data) > MAX_DOCX_BYTES:
        raise _error(_("Файл больше %(mb)s МБ.") % {"mb": MAX_DOCX_BYTES >> 20})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive_parts(archive)
            if "word/document.xml" not in archive.namelist():
                raise _error(_("Это не документ Word (DOCX)."))
    except ImportFileError as exc:
        raise _error(str(exc)) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _error(_("Это не документ Word (DOCX): архив не читается.")) from None


def _error(message: str, name: str = "") -> DocumentError:
    return DocumentError([TemplateProblem(0, name, message)])


def docx_problems(data: bytes, sample: Mapping[str, Any]) -> list[TemplateProblem]:
    """Every problem of a DOCX template: the file's, then its placeholders' (names, forbidden
    attributes and calls, then a fill against the sample context). Lines are not given: the
    Word text has none."""
    try:
        check_docx_file(data)
    except DocumentError as exc:
        return exc.problems
    from docxtpl import DocxTemplate

    try:
        doc = DocxTemplate(io.BytesIO(data))
        doc.init_docx()
        xml = doc.patch_xml(doc.get_xml())
    except Exception:  # python-docx raises many kinds on a broken document
        return [TemplateProblem(0, "", _("Документ Word не читается."))]
    problems = [
        TemplateProblem(0, p.name, p.message)
        for p in static_problems(xml, sample.keys(), env=docx_environment())
    ]
    if problems:
        return problems
    try:
        render_docx(data, sample)
    except TemplateRefused as exc:
        return [TemplateProblem(0, p.name, p.message) for p in exc.problems]
    return []


def render_docx(data: bytes, context: Mapping[str, Any]) -> bytes:
    """The Word template filled in (docxtpl, in the sandbox), as DOCX bytes."""
    from docxtpl import DocxTemplate
    from jinja2.exceptions import TemplateError

    doc = DocxTemplate(io.BytesIO(data))
    try:
        doc.render(dict(context), jinja_env=docx_environment(), autoescape=True)
    except (TemplateError, ArithmeticError, ValueError, TypeError) as exc:
        problem = problem_of(exc)
        raise DocumentError([TemplateProblem(0, problem.name, problem.message)]) from None
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_to_pdf(data: bytes) -> bytes:
    """A DOCX converted to PDF by LibreOffice (headless, its own profile, in a temporary
    directory, at most :data:`SOFFICE_TIMEOUT` seconds)."""
    program = soffice()
    if program is None:
        raise _error(
            _("LibreOffice не установлен на сервере: PDF из Word не сделать, только DOCX.")
        )
    with tempfile.TemporaryDirectory(prefix="kt-docx-") as tmp:
        source = os.path.join(tmp, "document.docx")
        with open(source, "wb") as fh:
            fh.write(data)
        command = [
            program,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            source,
        ]
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                timeout=SOFFICE_TIMEOUT,
                env={**os.environ, "HOME": tmp},
            )
        except subprocess.TimeoutExpired:
            raise _error(_("LibreOffice не успел сделать PDF.")) from None
        except (subprocess.CalledProcessError, OSError):
            raise _error(_("LibreOffice не смог сделать PDF из этого документа.")) from None
        target = os.path.join(tmp, "document.pdf")
        if not os.path.exists(target):
            raise _error(_("LibreOffice не смог сделать PDF из этого документа."))
        with open(target, "rb") as fh:
            return fh.read()
