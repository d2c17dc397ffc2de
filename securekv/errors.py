"""Typed command errors. A handler raises CommandError; dispatch turns it into
one `-PREFIX message` reply (and counts it in errorstats) in one place.

The message carries its RESP prefix (ERR, WRONGTYPE, NOPERM, ...), exactly as
Redis writes it. The constants below are Redis 7.0's shared error strings.
"""


class CommandError(Exception):
    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def prefix(self) -> str:
        """The error code Redis counts in INFO errorstats (the first word)."""
        return self.message.split(" ", 1)[0]


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
DB_INDEX = "ERR DB index is out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
NOT_POSITIVE = "ERR value is out of range, must be positive"


def wrong_arity(name: str) -> CommandError:
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def syntax() -> CommandError:
    return CommandError(SYNTAX)


def wrongtype() -> CommandError:
    return CommandError(WRONGTYPE)
