"""The one exception type for bad input from a user.

Anything a user can get wrong (a flag value, a data folder, a CSV column)
raises :class:`UsageError` with a one-line message that names the bad value and
what would be accepted. The command-line entry point turns it into that line on
standard error and exit status 2, never a traceback.
"""


class UsageError(Exception):
    """Bad input from the user: a flag value, a file or a folder.

    The message must be one line, name the offending value and say what would
    be accepted instead.
    """


class DataUnavailableError(UsageError):
    """A data set is neither on disk nor downloadable (for example, no network)."""
