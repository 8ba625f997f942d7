"""Exceptions for bad input: the library speaks Python, the command line speaks flags.

The library (data loaders, model builders, tokenizers, strategies ...) raises
Python exceptions that name the *argument* and the value it received, the way
Keras does:

```pycon
>>> build_mlp((28, 28, 1), hidden_units=[0], num_classes=10)
ArgumentValueError: Invalid value for argument `hidden_units`: every layer
width must be positive. Received: hidden_units=[0]
```

They subclass the built-in exception a Python user would catch
(`ValueError`, `OSError`) and [`InputError`][mlrecipes.errors.InputError], so that the command
line ([`mlrecipes.cli`][mlrecipes.cli]) can tell bad input from a bug: it turns an
[`InputError`][mlrecipes.errors.InputError] into one line on standard error that names the *flag*
(`--hidden-units 0: every layer width must be positive`) and exit status 2,
and lets anything else raise with its traceback.
"""

from __future__ import annotations

from typing import Any


class InputError(Exception):
    """Base class of every exception that means "bad input", never "a bug".

    The message is one line: it names the bad value and says what would be
    accepted instead.
    """


class ArgumentValueError(InputError, ValueError):
    """An argument of a library function has a value the function cannot use.

    Args:
        argument: The argument's name, as in the function's signature.
        value: The value received.
        reason: What is wrong with it and what would be accepted, without the
            argument's name (for example `"must be 0 or more"`).

    Attributes:
        argument: The argument's name.
        value: The value received.
        reason: What is wrong with it.
    """

    def __init__(self, argument: str, value: Any, reason: str):
        self.argument = argument
        self.value = value
        self.reason = reason
        super().__init__(f"Invalid value for argument `{argument}`: {reason}. Received: {argument}={value!r}")


class DataError(InputError, ValueError):
    """Data that cannot be used: a damaged file, a bad CSV row, an empty split.

    The message names the file (and line, where there is one) and says what
    was expected.
    """


class ConfigurationError(InputError, ValueError):
    """The environment is set up wrongly, for example a malformed `TF_CONFIG`."""


class DataUnavailableError(InputError, OSError):
    """A data set (or pretrained preset) is neither on disk nor downloadable, for example offline."""


class UsageError(InputError):
    """Bad command-line input, in the command line's own words (it names flags).

    Raised only by the command-line layer: [`mlrecipes.cli`][mlrecipes.cli] and the
    recipes' `main` functions. Library code raises the exceptions above.
    """
