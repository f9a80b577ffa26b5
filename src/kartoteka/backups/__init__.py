"""Backups of a whole installation: the database and the uploaded files in one archive.

``kartoteka backup -o FILE`` writes a gzip'd tar; ``kartoteka restore FILE`` puts it back.

Why it is built this way:

- **A consistent database while people work.** SQLite is copied with its online backup API
  (``sqlite3.Connection.backup``) in one step: one read transaction, which in WAL mode never
  blocks the writers, so the copy is the database as of one commit. PostgreSQL is dumped by
  ``pg_dump`` (custom format) inside a snapshot exported from a repeatable-read transaction;
  the counts written into the manifest are read in that same snapshot, so they describe the dump
  exactly.
- **Files after the database.** The records service saves an uploaded file before the row that
  names it commits, so every file a row of the snapshot names is already on disk when the files
  are copied, after the snapshot. Files uploaded later come along as harmless orphans.
- **Checked before anything is touched.** The archive starts with ``manifest.json`` (what made it:
  the version, the kind of database, when, the migrations applied, counts) and ends with
  ``SHA256SUMS`` (``sha256sum -c`` format) of every other member. A restore unpacks into a
  staging directory inside the data directory, refusing any member that is not one of ours
  (absolute or ``..`` paths, links, devices, duplicates); only when every checksum matches does it
  replace the database — SQLite through the backup API again (atomic on the destination),
  PostgreSQL through ``pg_restore`` piped into one ``psql`` transaction that first drops what
  was there — and then swap the media directory in with a rename.

:mod:`.archive` is the file format, :mod:`.databases` the two databases, :mod:`.services` the two
operations the CLI calls.
"""
