"""rnnlab's grading engine: what an autograder zip carries to grade a submission.

Shipped whole inside every autograder zip.  ``grading`` grades one submission: its cells
run in a ``kernel`` of their own user (started through ``jail``), and each question's tests
run in a ``checker`` process that reaches the kernel's objects through ``remote``.
``gradescope`` is the zip's entry point.  The kernel side (``remote``, ``jail``) uses the
standard library and numpy alone, and never imports the checker side.
"""
