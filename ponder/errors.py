"""The one exception type users see. Its message is a single line naming what is wrong."""


class PonderError(Exception):
    """A user-facing error: bad input, a missing file, an unsupported setting.

    The CLI prints `error: <message>` and exits 2; the traceback only with --debug.
    """
