"""The forecast of a period's end: a straight line through what is spent so far."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billing.selectors import forecast

JUNE = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))


def test_ten_days_of_a_thirty_day_month_make_a_third_of_it():
    result = forecast(Decimal("10"), JUNE, datetime(2025, 6, 11, tzinfo=UTC), Decimal("25"))
    assert result.projected == Decimal("30.00")
    assert result.last_day == date(2025, 6, 30)
    assert result.over


def test_a_pace_within_the_budget_is_not_over():
    result = forecast(Decimal("5"), JUNE, datetime(2025, 6, 16, tzinfo=UTC), Decimal("25"))
    assert result.projected == Decimal("10.00")
    assert not result.over


def test_without_a_budget_nothing_is_over():
    result = forecast(Decimal("5"), JUNE, datetime(2025, 6, 16, tzinfo=UTC), None)
    assert result.projected == Decimal("10.00") and not result.over


def test_the_first_day_of_a_month_is_too_early():
    assert forecast(Decimal("3"), JUNE, datetime(2025, 6, 1, 20, tzinfo=UTC), Decimal("25")).projected is None


def test_nothing_spent_is_too_early():
    assert forecast(Decimal("0"), JUNE, datetime(2025, 6, 20, tzinfo=UTC), Decimal("25")).projected is None


def test_a_day_is_forecast_after_its_first_six_hours():
    day = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC))
    assert forecast(Decimal("1"), day, datetime(2025, 6, 1, 5, tzinfo=UTC), None).projected is None
    assert forecast(Decimal("1"), day, datetime(2025, 6, 1, 12, tzinfo=UTC), None).projected == Decimal("2.00")
