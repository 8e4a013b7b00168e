"""Money parsing and arithmetic: exact or refused, never rounded, never float."""

from __future__ import annotations

import re
from decimal import Decimal, Inexact

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.money import (
    canonical_decimal,
    decimal_places,
    exact_product,
    exact_sum,
    format_amount,
    is_multiple,
    parse_amount,
)
from approvals.refusals import InvalidAmount

STEP = Decimal("0.000001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "1"),
        ("1.5", "1.5"),
        (" 0.000001 ", "0.000001"),
        ("007.10", "7.10"),
        (12, "12"),
        ("1,000", "1000"),
        ("10,000.5", "10000.5"),
        ("1,234,567.000001", "1234567.000001"),
    ],
)
def test_accepts_exact_amounts(text: object, expected: str) -> None:
    assert parse_amount(text, step=STEP) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (1.5, "is a floating-point number"),
        (True, "is true/false"),
        (None, "must be a number written as text"),
        ("1" * 41, "is too long (41 characters)"),
        ("sNaN", "is not a number"),
        ("-inf", "is not a number"),
    ],
)
def test_refuses_what_is_not_exact_text(value: object, fragment: str) -> None:
    with pytest.raises(InvalidAmount, match=re.escape(fragment)):
        parse_amount(value)


DECIMAL_COMMA = (
    'has a comma that is not a thousands separator: the decimal separator is ".", e.g. 1.5 '
    "(commas only group digits in threes, e.g. 10,000.5)"
)
SEPARATOR = (
    "contains a separator; write it without separators or with commas grouping digits in "
    "threes, and a dot for decimals, e.g. 10000.5 or 10,000.5"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,5", f"The amount 1,5 {DECIMAL_COMMA}"),
        ("12,50", f"The amount 12,50 {DECIMAL_COMMA}"),
        ("0,100", f"The amount 0,100 {DECIMAL_COMMA}"),  # 0.1 or 100: never guessed
        ("1,0000", f"The amount 1,0000 {DECIMAL_COMMA}"),
        ("0,001,000", f"The amount 0,001,000 {SEPARATOR}"),
        ("12,34,567", f"The amount 12,34,567 {SEPARATOR}"),
        ("1.000,5", f"The amount 1.000,5 {DECIMAL_COMMA}"),
        ("1,000.", f"The amount 1,000. {SEPARATOR}"),
        ("1,000,", f"The amount 1,000, {SEPARATOR}"),
        (",100", f"The amount ,100 {SEPARATOR}"),
        ("1 000", f"The amount 1 000 {SEPARATOR}"),
        ("1_000", f"The amount 1_000 {SEPARATOR}"),
        ("1,000 000", f"The amount 1,000 000 {SEPARATOR}"),
    ],
)
def test_only_the_bots_own_thousands_grouping_is_read(text: str, message: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text)
    assert refused.value.message == message


def test_grouping_does_not_count_towards_the_length_limit() -> None:
    forty = Decimal("9" * 40)
    assert parse_amount(format_amount(forty)) == forty
    with pytest.raises(InvalidAmount, match=re.escape("is too long (41 characters)")):
        parse_amount(format_amount(Decimal("9" * 41)))


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("0.000001"), max_value=10**30, places=6, allow_nan=False))
def test_an_amount_copied_from_a_message_reads_back_the_same(value: Decimal) -> None:
    assert parse_amount(format_amount(value), step=STEP) == value


def test_zero_allowed_only_when_asked() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    with pytest.raises(InvalidAmount, match="is zero"):
        parse_amount("0")


def test_step_need_not_be_a_power_of_ten() -> None:
    assert parse_amount("2.5", step=Decimal("0.5")) == Decimal("2.5")
    with pytest.raises(InvalidAmount, match=r"moves in steps of 0\.5"):
        parse_amount("2.25", step=Decimal("0.5"), unit="XYZ")
    with pytest.raises(ValueError, match="a step must be positive"):
        is_multiple(Decimal(1), Decimal(0))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,-+eE nNaAiIfF_'", max_size=24))
def test_any_text_is_an_exact_amount_or_an_invalid_amount(text: str) -> None:
    try:
        amount = parse_amount(text, step=STEP)
    except InvalidAmount:
        return
    assert amount > 0
    assert amount == Decimal(text.strip().replace(",", ""))
    assert "," not in text or re.fullmatch(r"[1-9]\d{0,2}(,\d{3})+(\.\d+)?", text.strip())
    assert is_multiple(amount, STEP)
    assert "e" not in text.lower()


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10**18, places=6, allow_nan=False))
def test_canonical_spelling_round_trips(value: Decimal) -> None:
    text = canonical_decimal(value)
    assert "E" not in text
    assert Decimal(text) == value
    assert canonical_decimal(Decimal(text + ("0" if "." in text else ".000"))) == text


def test_canonical_and_display_forms() -> None:
    assert canonical_decimal(Decimal("100")) == "100"
    assert canonical_decimal(Decimal("1E+2")) == "100"
    assert canonical_decimal(Decimal("1.500")) == "1.5"
    assert canonical_decimal(Decimal("-0")) == "0"
    assert format_amount(Decimal("1234567.500")) == "1,234,567.5"
    assert format_amount(Decimal("0.000001")) == "0.000001"
    assert decimal_places(Decimal("1.50")) == 1
    assert decimal_places(Decimal("100")) == 0
    with pytest.raises(ValueError, match="not a finite amount"):
        canonical_decimal(Decimal("NaN"))


def test_arithmetic_is_exact_or_raises() -> None:
    big = Decimal("9" * 40)
    assert exact_sum(big, Decimal("0.000000000000000000000000000000000000001")) == Decimal(
        "9" * 40 + ".000000000000000000000000000000000000001"
    )
    assert exact_product(Decimal("1.5"), Decimal("1.25")) == Decimal("1.875")
    with pytest.raises(Inexact):
        exact_product(Decimal("1." + "1" * 60), Decimal("1." + "1" * 60))
