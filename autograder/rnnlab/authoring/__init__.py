"""The instructor's tools: a lab read into one description (``labs``), built into a student
notebook and an autograder zip (``build``), its catalogue of buggy variants (``variants``),
and its verdicts checked across CPU profiles (``platforms``, ``verify``, ``platform_matrix``)."""
