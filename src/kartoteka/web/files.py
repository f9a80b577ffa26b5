"""Serving the files of file fields.

The threat: anyone who may write a file field (a manager) uploads ``x.html`` or ``x.svg``; anyone
who reads the record (an administrator) clicks it on the card. Served inline from the app's own
origin, its script would run with the reader's session. So a file is never shown by the browser
as a page of this site:

- it is a download (``Content-Disposition: attachment``) unless its *bytes* are a raster image
  (PNG, JPEG, GIF, WebP) or a PDF — judged by the bytes, not by the name the uploader chose (an
  ``x.png`` holding HTML is a download); SVG, being a document that can carry script, is always a
  download;
- its type is the sniffed one for those, else the one its name suggests, but never a type a
  browser would run as a document (HTML, XML, SVG, script): those are sent as
  ``application/octet-stream``;
- ``X-Content-Type-Options: nosniff`` keeps the browser from guessing otherwise, and
  ``Content-Security-Policy: sandbox`` (with nothing else allowed) puts even a file opened
  directly into an opaque origin without script.

Which file is served is decided by the record, not by a path in the address: the URL names the
table, the record and the field (:func:`kartoteka.web.views.record_file`), so the reader must be
able to read that record (row filter) and see that field; what the field holds was checked when it
was written (``records.services``: an upload, or a file the writer could already read).
"""

from __future__ import annotations

import mimetypes
import posixpath

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

#: Leading bytes of the types a browser may show inline.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
#: Parts of a type that make a browser treat a file as a document that may run script.
ACTIVE = ("html", "xml", "svg", "javascript", "ecmascript")
DOWNLOAD_TYPE = "application/octet-stream"
#: The policy of every file response: nothing loads, no script, an opaque origin.
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
#: A PDF is drawn by the browser's viewer, which a ``sandbox`` without plugins blocks; it gets
#: ``object-src 'self'`` instead of the sandbox (the viewer runs outside the page's origin).
PDF_POLICY = "default-src 'none'; style-src 'unsafe-inline'; object-src 'self'"


def sniff(head: bytes) -> str | None:
    """The inline-safe type the leading bytes ``head`` are, or ``None``."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def download_type(name: str) -> str:
    """The type of a file served as a download: by its name, unless that is an active type."""
    guessed, _encoding = mimetypes.guess_type(name)
    if guessed is None or any(part in guessed for part in ACTIVE):
        return DOWNLOAD_TYPE
    return guessed


def file_response(name: str) -> FileResponse:
    """The response for the stored file ``name`` (a value of a file field); 404 when missing."""
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise Http404 from None
    except Exception:  # SuspiciousFileOperation: a name outside the storage
        raise Http404 from None
    head = handle.read(16)
    handle.seek(0)
    inline_type = sniff(head)
    filename = posixpath.basename(name)
    response = FileResponse(
        handle,
        as_attachment=inline_type is None,
        filename=filename,
        content_type=inline_type or download_type(filename),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        PDF_POLICY if inline_type == "application/pdf" else FILE_POLICY
    )
    response["Cache-Control"] = "private, no-cache"
    return response
