"""The statistics helpers against t-table values written by hand."""

import math

import pytest

from qnemu.experiments.stats import Interval, format_interval, mean_ci, numbers


def test_five_samples_use_t_with_four_degrees_of_freedom():
    # mean 3, s = sqrt(2.5); t_{0.975, 4} = 2.776445 (t table) -> 2.776445 * sqrt(2.5 / 5)
    interval = mean_ci([1, 2, 3, 4, 5])
    assert interval.n == 5
    assert interval.mean == pytest.approx(3.0)
    assert interval.half_width == pytest.approx(1.963243, abs=1e-6)
    assert (interval.low, interval.high) == pytest.approx((1.036757, 4.963243), abs=1e-6)


def test_two_samples_use_the_wide_one_degree_of_freedom_quantile():
    # s = sqrt(2), n = 2: half-width = t_{0.975, 1} = 12.706205
    assert mean_ci([10.0, 12.0]).half_width == pytest.approx(12.706205, abs=1e-6)


def test_other_confidence_levels():
    # t_{0.95, 4} = 2.131847 for a 90% interval
    assert mean_ci([1, 2, 3, 4, 5], 0.90).half_width == pytest.approx(
        2.131847 * math.sqrt(0.5), abs=1e-6
    )
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1, 2], 1.0)


def test_constant_sample_has_zero_width():
    assert mean_ci([4.0, 4.0, 4.0]).half_width == 0.0


def test_one_sample_has_a_mean_but_no_interval_and_none_has_neither():
    assert mean_ci([7.5]) == Interval(1, 7.5, None)
    assert mean_ci([]) == Interval(0, None, None)
    assert mean_ci([None, ""]).n == 0


def test_csv_text_is_parsed_and_empty_cells_skipped():
    assert mean_ci(["1.0", "", None, "3"]).mean == pytest.approx(2.0)
    assert numbers(["1", "inf", "nan", "2.5"]) == [1.0, 2.5]
    with pytest.raises(ValueError):
        numbers(["true"])


def test_format_interval():
    assert format_interval(mean_ci([1, 2, 3, 4, 5])) == "3.0 ± 2.0"
    assert format_interval(mean_ci([0.001, 0.003]), scale=1e3) == "2 ± 13"
    assert format_interval(mean_ci([2.0])) == "2"
    assert format_interval(mean_ci([])) == "-"
