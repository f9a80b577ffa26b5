"""Export («Экспортировать») of records to CSV and XLSX (SPEC §7).

The entry point is :func:`kartoteka.exports.services.export_records`: it reads the records
through :func:`kartoteka.records.selectors.list_records` (the one read path, so filters, search,
state and — later — access rights hold here too) and returns an :class:`ExportFile` whose
``chunks`` produce the file as a stream of bytes. The web download, the CLI
(``kartoteka export``) and later jobs all call it.

Modules:

- :mod:`.columns` — which columns a file has and how each value is read and shown;
- :mod:`.writers` — the CSV and XLSX writers (streaming, constant memory, formula neutralisation);
- :mod:`.services` — :func:`export_records`, :func:`save_export` and the ``FIELD__op=VALUE``
  filter syntax of the CLI.
"""
