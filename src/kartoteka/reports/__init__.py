"""Reports («Отчёты», SPEC §5): the sales funnel, performance and sales.

Each report is a function that takes the actor and the parameters and returns a plain result
object, computed by SQL aggregation over rows read through
:func:`kartoteka.records.selectors.base_queryset` (so access rights, once they exist, hold here):

- :mod:`.funnel` — «Воронка продаж» (:func:`~.funnel.compute_funnel`, its drill-down
  :func:`~.funnel.funnel_members`; the module docs define every number);
- :mod:`.performance` — «Производительность»;
- :mod:`.sales` — «По продажам».

:mod:`.views` renders them (parameters form, an inline SVG chart drawn by :mod:`.charts`, the table,
CSV/XLSX exports through :mod:`kartoteka.exports.writers`); :mod:`.registry` lists the report types.
"""
