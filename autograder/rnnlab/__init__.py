"""rnnlab's tools that never ship: ``authoring`` (read a lab, build its notebooks and zips,
its catalogue of variants, calibrations) and ``batch`` (collect submissions, grade them,
report), behind the ``rnnlab`` command (``cli``)."""
