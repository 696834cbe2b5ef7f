"""Exceptions and boundary checks.

Conventions
-----------
Every user mistake raises a subclass of :class:`ChordscopeError` with a one-line message of the
form ``name=value must be ...``; the command line turns it into ``chordscope: error: ...`` and
exit status 2. Checks live here and run at the boundary of public functions, so the inside of
the package can assume clean input.
"""

from __future__ import annotations

import numbers

__all__ = [
    "ChordscopeError",
    "ParameterError",
    "ModelFileError",
    "OutputError",
    "InputError",
    "valid_positive_int",
    "valid_non_negative_int",
    "valid_choice",
]


class ChordscopeError(Exception):
    """Root of every error chordscope raises on purpose."""


class ParameterError(ChordscopeError, ValueError):
    """A parameter has a value chordscope cannot use."""


class ModelFileError(ChordscopeError):
    """A model file is missing, corrupt, or does not match its metadata."""


class OutputError(ChordscopeError):
    """An output location exists already or cannot be written."""


class InputError(ChordscopeError):
    """An input file (audio, chord annotation) is missing, unreadable or malformed."""


def valid_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int if it is an integer > 0, else raise :class:`ParameterError`.

    Examples
    --------
    >>> valid_positive_int("epochs", 3)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return int(value)


def valid_non_negative_int(name: str, value: object) -> int:
    """Return ``value`` as an int if it is an integer >= 0, else raise :class:`ParameterError`.

    Examples
    --------
    >>> valid_non_negative_int("seed", 0)
    0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ParameterError(f"{name}={value!r} must be a non-negative integer")
    return int(value)


def valid_choice(name: str, value: object, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ParameterError`.

    Examples
    --------
    >>> valid_choice("recipe", "seed", ["seed", "robust"])
    'seed'
    """
    choices = list(choices)
    if value not in choices:
        raise ParameterError(f"{name}={value!r} must be one of {', '.join(map(str, choices))}")
    return value
