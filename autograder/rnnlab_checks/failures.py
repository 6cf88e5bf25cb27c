"""The one exception every check raises, and the one-line errors of the notebook's own cells."""


class CheckFailure(AssertionError):
    """A check failed; the message is meant for the student and says where to look."""

    def __init__(self, *args):
        super().__init__(*args)
        from .feedback import use_in_otter

        use_in_otter()  # otter may have been loaded after this package: it shows the message alone


class OneLineError(Exception):
    """An error of the notebook's first or last cell that Jupyter shows as its message alone."""

    def _render_traceback_(self):  # IPython shows these lines instead of a traceback
        return [f"{type(self).__name__}: {self}"]
