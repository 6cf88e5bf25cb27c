"""rnnlab's grading engine: what an autograder zip carries to grade a submission.

Shipped whole inside every autograder zip.  ``grading`` grades one submission: its cells
run in a ``kernel``, started by ``isolation``'s jail in the strongest sandbox the machine
allows, and each question's tests run in a ``checker`` process that reaches the kernel's
objects through ``remote``.  ``gradescope`` is the zip's entry point.  What runs in the kernel
(``remote``) uses the standard library and numpy alone; the jail, the standard library and
the bindings of its layers; neither imports the checker side.
"""
