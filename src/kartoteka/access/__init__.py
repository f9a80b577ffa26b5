"""Access rights: groups, table/field/row rights, log-in protection and the audit log (SPEC §10).

Rights are *enforced* in two places only — :mod:`kartoteka.records.selectors` for reads and
:mod:`kartoteka.records.services` for writes — which ask :mod:`kartoteka.access.rights`.
"""
