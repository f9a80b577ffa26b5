"""The quick-search filter of :func:`kartoteka.records.selectors.list_records`.

A record matches when it matches every term of the query (:func:`~kartoteka.search.text.
parse_query`). The filter is ``id IN (subquery on the index)``: the database answers it from the
index and joins it with the rest of the list's conditions, sort and page, however many records
match — no ids travel through Python.
"""

from __future__ import annotations

from django.db.models import Q

from kartoteka.search import backends
from kartoteka.search.text import parse_query
from kartoteka.tables.models import Table


def search_filter(table: Table, text: str, *, by_id: bool = True) -> Q:
    """Records of ``table`` matching the search ``text``.

    ``by_id``: a query that is just a number also matches the record with that id (a link picker
    is typed into by record number). Global search turns it off, or «123» would list record
    №123 of every table. In a query of several words numbers are only text: an ``OR`` with an id
    would split the one index subquery into several.
    """
    terms = parse_query(text)
    if not terms:
        return Q()
    record_id = terms[0].record_id if by_id and len(terms) == 1 else None
    return Q(pk__in=backends.matching_record_ids(table.pk, terms, or_id=record_id))
