import numpy as np
import pytest

from forecaster.config import WindowConfig
from forecaster.data.windowing import (
    Weighing,
    WindowIndex,
    WindowSource,
    evenly_spaced,
    split_series,
    train_origins,
    val_origins,
    valid_lengths,
)


def test_window_contents_on_arange():
    series = np.arange(20, dtype="float32")[:, None]
    source = WindowSource([series], lookback=4, horizon=2)
    gather = source.gather_fn(with_target=True)
    inputs, targets = gather(np.array([0, 0]), np.array([4, 10]))
    np.testing.assert_array_equal(inputs["values"].numpy()[:, :, 0], [[0, 1, 2, 3], [6, 7, 8, 9]])
    np.testing.assert_array_equal(inputs["length"].numpy(), [4, 4])
    np.testing.assert_array_equal(targets.numpy(), [[4, 5], [10, 11]])


def test_short_window_is_right_padded_with_its_length():
    series = np.arange(1, 21, dtype="float32")[:, None]  # 1..20 so padding zeros are distinguishable
    source = WindowSource([series], lookback=6, horizon=2)
    inputs, targets = source.gather_fn(True)(np.array([0]), np.array([3]))
    np.testing.assert_array_equal(inputs["values"].numpy()[0, :, 0], [1, 2, 3, 0, 0, 0])
    assert inputs["length"].numpy()[0] == 3
    np.testing.assert_array_equal(targets.numpy()[0], [4, 5])


def test_patches_drop_the_oldest_points_not_the_newest():
    series = np.arange(1, 21, dtype="float32")[:, None]
    source = WindowSource([series], lookback=8, horizon=1, patch=4)
    inputs, _ = source.gather_fn(True)(np.array([0]), np.array([6]))
    # 6 points before the origin, rounded down to one whole patch: the 4 newest (3..6)
    np.testing.assert_array_equal(inputs["values"].numpy()[0, :, 0], [3, 4, 5, 6, 0, 0, 0, 0])
    assert inputs["length"].numpy()[0] == 4
    np.testing.assert_array_equal(valid_lengths(np.array([3, 6, 9, 30]), 8, 4), [0, 4, 8, 8])


def test_windows_of_second_series_do_not_reach_into_the_first():
    a = np.arange(10, dtype="float32")[:, None]
    b = 100 + np.arange(10, dtype="float32")[:, None]
    source = WindowSource([a, b], lookback=5, horizon=1)
    inputs, targets = source.gather_fn(True)(np.array([1]), np.array([2]))
    np.testing.assert_array_equal(inputs["values"].numpy()[0, :, 0], [100, 101, 0, 0, 0])
    assert targets.numpy()[0, 0] == 102


def test_split_keeps_validation_targets_after_training_targets():
    cfg = WindowConfig(horizon=5, lookback=10, val_fraction=0.2, holdout=7)
    split = split_series(107, cfg)
    assert split.n_fit == 100 and split.n_train == 80
    train_last_target = max(train_origins(split, cfg)) + cfg.horizon - 1
    assert train_last_target < split.n_train <= min(val_origins(split, cfg))
    assert max(val_origins(split, cfg)) + cfg.horizon <= split.n_fit  # never into the holdout


def test_too_short_series_is_refused():
    cfg = WindowConfig(horizon=10, lookback=20, min_context=5)
    assert split_series(20, cfg) is None
    assert split_series(60, cfg) is not None


@pytest.mark.parametrize("count,limit", [(5, 10), (1000, 7)])
def test_evenly_spaced(count, limit):
    picked = evenly_spaced(count, limit)
    assert len(picked) == min(count, limit) and picked[0] == 0 and picked[-1] == count - 1


def test_dataset_samples_bounded_windows_per_epoch():
    series = np.arange(500, dtype="float32")[:, None]
    source = WindowSource([series], lookback=4, horizon=2)
    origins = np.arange(4, 490)
    ds = source.training_dataset(WindowIndex.from_runs([(0, origins)]), 32, seed=0, sample_per_epoch=64)
    inputs, targets = next(iter(ds))
    # every sampled window is consistent: targets follow the inputs
    np.testing.assert_array_equal(targets.numpy()[:, 0], inputs["values"].numpy()[:, -1, 0] + 1)


def test_window_index_names_every_window_in_series_then_origin_order():
    runs = [(0, np.arange(3, 7)), (1, np.arange(0)), (2, np.arange(10, 12))]
    index = WindowIndex.from_runs(runs)
    series, origins = index.windows()
    assert len(index) == 6
    assert series.tolist() == [0, 0, 0, 0, 2, 2] and origins.tolist() == [3, 4, 5, 6, 10, 11]
    picked = index.take(np.array([5, 0, 4]))
    assert picked[0].tolist() == [2, 0, 2] and picked[1].tolist() == [11, 3, 10]

    latest = index.latest(3)  # the last three of each series; all of one that has fewer
    assert latest.windows()[0].tolist() == [0, 0, 0, 2, 2] and latest.windows()[1].tolist() == [4, 5, 6, 10, 11]


def test_calibration_windows_are_each_series_last_horizon_or_enough_in_all():
    from forecaster.scoring.calibration import CALIBRATION_MIN_WINDOWS
    from forecaster.scoring.validation import calibration_windows

    many = WindowIndex.from_runs([(s, np.arange(100, 400)) for s in range(500)])
    series, origins = calibration_windows(many, horizon=13).windows()
    assert len(series) == 500 * 13 and origins.min() == 400 - 13 and origins.max() == 399
    few = WindowIndex.from_runs([(0, np.arange(0, 5000)), (1, np.arange(0, 300))])
    series, origins = calibration_windows(few, horizon=13).windows()
    half = CALIBRATION_MIN_WINDOWS // 2  # two series share the minimum; the short one gives all it has
    assert (series == 0).sum() == half and origins[series == 0].min() == 5000 - half
    assert (series == 1).sum() == 300


def test_sampled_training_windows_come_from_the_runs():
    series = [np.arange(100, dtype="float32")[:, None] + 1000 * k for k in range(3)]
    source = WindowSource(series, lookback=4, horizon=2)
    index = WindowIndex.from_runs([(0, np.arange(10, 20)), (2, np.arange(50, 55))])
    allowed = {1000 * s + o for s, o in zip(*index.windows())}  # the first target names (series, origin)
    seen = set()
    for _, targets in source.training_dataset(index, 32, seed=1, sample_per_epoch=8).take(10):
        seen |= set(targets.numpy()[:, 0].astype(int).tolist())
    assert seen == allowed  # 320 draws from 15 windows: every one, and nothing else


@pytest.mark.parametrize("power", [1, 2])
def test_window_loss_weights_are_one_over_the_spread_of_the_valid_inputs(power):
    series = np.concatenate([np.arange(10.0), 100 + 10 * np.arange(10.0)]).astype("float32")[:, None]
    source = WindowSource([series], lookback=4, horizon=2, weighing=Weighing(power))
    # a full window of 0..3, a right-padded one of 0..1, and one of 100, 110, 120, 130
    _, _, weights = source.gather_fn(True)(np.array([0, 0, 0]), np.array([4, 2, 14]))
    spreads = np.array([np.std([0, 1, 2, 3]), np.std([0, 1]), np.std([100, 110, 120, 130])])
    np.testing.assert_allclose(weights.numpy(), spreads ** (-power), rtol=1e-5)


@pytest.mark.parametrize("power", [1, 2])
def test_level_loss_weights_are_one_over_the_level_in_the_data_s_units(power):
    """--loss-scale level: a window's weight is 1 / (its mean absolute raw value / the series' scale), or 1 / its
    spread where that is larger (a window around zero), as sMAPE weighs errors."""
    raw = np.concatenate([[-1.0, 1.0, -1.0, 1.0], 100 + np.arange(6.0)])
    center, scale = 50.0, 20.0
    scaled = ((raw - center) / scale).astype("float32")[:, None]
    levels = np.array([[center, scale]])
    source = WindowSource([scaled], lookback=4, horizon=2, weighing=Weighing(power, levels))
    _, _, weights = source.gather_fn(True)(np.array([0, 0, 0]), np.array([4, 8, 6]))
    level_high = np.mean([100, 101, 102, 103]) / scale  # 5.075: far above the window's spread (0.056)
    level_mixed = np.mean([1, 1, 100, 101]) / scale  # 2.5375, above the spread of -1, 1, 100, 101 (2.5)
    around_zero = np.std([-1, 1, -1, 1]) / scale  # its level (0.05) equals its spread: the spread
    expected = np.array([around_zero, level_high, level_mixed]) ** (-power)
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-5)
