"""Errors raised by the pure domain helpers.

Each message is Japanese and says *why* the value was refused, because it is shown as is to
the clerk at the counter or in the import report. Messages never repeat personal data that
the caller did not type (an individual number, for example, is never echoed).
"""


class InputError(ValueError):
    """A value a person typed or imported cannot be used as it stands."""


class DateParseError(InputError):
    """Text is not a date we accept, or names a day that does not exist (SPEC §6.1)."""


class TrackingNumberError(InputError):
    """Text cannot be a tracking number (お問い合わせ番号) (SPEC §6.3)."""
