"""The one exception type users see. Its message is a single line naming what is wrong."""


class PonderError(Exception):
    """A user-facing error: bad input, a missing file, an unsupported setting.

    The CLI prints `error: <message>` and exits 2; the traceback only with --debug.
    """


def headline(text) -> str:
    """One line for a message nobody foresaw: its first line, and when that is a heading over its reason
    ("Error(s) in loading state_dict for Transformer:") the reason's first line too, with how many more follow."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()] or [""]
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        line += f" {lines[1]}" + (f" (and {len(lines) - 2} more)" if len(lines) > 2 else "")
    return line
