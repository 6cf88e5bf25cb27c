"""The one exception every check raises."""


class CheckFailure(AssertionError):
    """A check failed; the message is meant for the student and says where to look."""
