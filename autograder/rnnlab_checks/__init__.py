"""rnnlab's checks library: the primitives that every lab's tests are written with.

It travels inside the autograder zip and the student bundle as the package
``rnnlab_checks``, so it imports nothing from the rest of rnnlab.
"""

from .failures import CheckFailure
from .feedback import use_in_otter

use_in_otter()

__all__ = ["CheckFailure"]
