"""Money as exact ``Decimal``: parsed strictly, added and multiplied without rounding.

A person types an amount into Slack and a treasury lead writes limits into policy.toml; both must
mean exactly what they say. So floats, exponents (``1e3``), NaN, infinities, signs, separators
and more decimals than the coin's step are refused with a message saying how to write it, rather
than guessed at. The one separator accepted is the thousands grouping the bot prints itself
(``1,234,567.5``, see ``format_amount``), so an amount copied from a message reads back as the
same value; any other comma (``1,5``, ``0,100``, ``1,0000``) could mean a decimal comma and is
refused. Arithmetic runs in a context that raises instead of rounding, so a
limit check can never pass because of a rounding step.
"""

from __future__ import annotations

import re
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

from approvals.refusals import InvalidAmount

__all__ = [
    "MAX_AMOUNT_CHARS",
    "canonical_decimal",
    "decimal_places",
    "exact_product",
    "exact_sum",
    "format_amount",
    "is_multiple",
    "parse_amount",
]

# Bounded length keeps every sum and product of two parsed values far inside the exact context.
MAX_AMOUNT_CHARS = 40
_EXACT = Context(prec=100, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero])

_PLAIN = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
_NEGATIVE = re.compile(r"-\s*[0-9]*\.?[0-9]+", re.ASCII)
_EXPONENT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+", re.ASCII)
_NOT_A_NUMBER = re.compile(r"[+-]?(s?nan|inf(inity)?)", re.ASCII | re.IGNORECASE)
_SEPARATED = re.compile(r"[0-9][0-9,_' ]*[,_' ][0-9][0-9,_' ]*(\.[0-9]+)?", re.ASCII)
# Exactly what ``format_amount`` writes: no leading zero, then groups of three.
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?", re.ASCII)
# One comma, before the last digits: most likely a decimal comma (``1,5``, ``1.000,5``).
_DECIMAL_COMMA = re.compile(r"[0-9][0-9.' _]*,[0-9]+", re.ASCII)


def parse_amount(
    value: object,
    *,
    what: str = "The amount",
    step: Decimal | None = None,
    unit: str = "",
    allow_zero: bool = False,
) -> Decimal:
    """An exact positive amount (or non-negative with ``allow_zero``), refused loudly otherwise.

    ``value`` is text as a person wrote it; a TOML integer is accepted because it is exact, a
    float never is. ``what`` starts the message ("The amount", "The value"), ``unit`` names the
    coin in it.
    """
    text = _as_text(value, what)
    shown = f"{text} {unit}".rstrip()
    if not text:
        raise InvalidAmount(f"{what} is empty; write a number such as 1500.25")
    plain = text.replace(",", "") if _GROUPED.fullmatch(text) else text
    if len(plain) > MAX_AMOUNT_CHARS:
        raise InvalidAmount(f"{what} is too long ({len(plain)} characters); check it")
    if _NOT_A_NUMBER.fullmatch(text):
        raise InvalidAmount(f"{what} {text!r} is not a number")
    if _EXPONENT.fullmatch(text):
        spelled = Decimal(text)
        hint = (
            f"write it out in full: {format(spelled, 'f')}"
            if abs(spelled.adjusted()) <= MAX_AMOUNT_CHARS // 2
            else "write the number out in full"
        )
        raise InvalidAmount(f"{what} {text} uses an exponent; {hint}")
    if _NEGATIVE.fullmatch(text):
        raise InvalidAmount(f"{what} {shown} is negative; it must be more than zero")
    if _DECIMAL_COMMA.fullmatch(plain):
        raise InvalidAmount(
            f"{what} {text} has a comma that is not a thousands separator: the decimal "
            'separator is ".", e.g. 1.5 (commas only group digits in threes, e.g. 10,000.5)'
        )
    if "," in plain or _SEPARATED.fullmatch(plain):
        raise InvalidAmount(
            f"{what} {text} contains a separator; write it without separators or with commas "
            "grouping digits in threes, and a dot for decimals, e.g. 10000.5 or 10,000.5"
        )
    if not _PLAIN.fullmatch(plain):
        raise InvalidAmount(
            f"{what} {text!r} is not a plain number; write digits with an optional decimal "
            "point, e.g. 1500.25"
        )
    amount = Decimal(plain)
    if amount == 0 and not allow_zero:
        raise InvalidAmount(f"{what} is zero; it must be more than zero")
    if step is not None and not is_multiple(amount, step):
        raise InvalidAmount(
            f"{what} {shown} has too many decimal places: {unit or 'it'} moves in steps of "
            f"{format_amount(step)}"
        )
    return amount


def _as_text(value: object, what: str) -> str:
    if isinstance(value, bool):
        raise InvalidAmount(f'{what} is true/false; write a number such as "1500.25"')
    if isinstance(value, float):
        raise InvalidAmount(
            f"{what} {value!r} is a floating-point number; write it as a string, e.g. "
            f'"{value!r}", so no float rounding can creep in'
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise InvalidAmount(f'{what} must be a number written as text, e.g. "1500.25"')


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole number of ``step``s (the coin's stepSize)."""
    if step <= 0:
        raise ValueError(f"a step must be positive, got {step}")
    return _EXACT.remainder(value, step) == 0


def decimal_places(value: Decimal) -> int:
    """Significant decimal places: 1.50 has one, 100 has none."""
    exponent = value.normalize(_EXACT).as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite amount: {value}")
    return max(0, -exponent)


def exact_sum(*values: Decimal) -> Decimal:
    """Sum without rounding; raises ``decimal.Inexact`` rather than round."""
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


def exact_product(left: Decimal, right: Decimal) -> Decimal:
    """Product without rounding; raises ``decimal.Inexact`` rather than round."""
    return _EXACT.multiply(left, right)


def canonical_decimal(value: Decimal) -> str:
    """One spelling per value ("1.50" and "1.5" hash alike), never an exponent ("100", not 1E+2)."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    text = format(value.normalize(_EXACT), "f")
    return "0" if text in {"-0", "0"} else text


def format_amount(value: Decimal) -> str:
    """How an amount is shown to people: thousands separators, no trailing zeros.

    ``parse_amount`` reads this back as the same value, so an amount copied from a message works.
    """
    return format(Decimal(canonical_decimal(value)), ",f")
