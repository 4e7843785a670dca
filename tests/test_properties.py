"""Property-based tests (hypothesis): windowing, splitting and scaling invariants on random data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster.config import WindowConfig
from forecaster.data.scaling import fit_scaler
from forecaster.data.windowing import WindowSource, min_length, split_series, train_origins, val_origins

FEW = settings(max_examples=30, deadline=None)


@st.composite
def panels(draw):
    """Random series (lengths 1-60, 1-2 columns), a window shape, and some windows to gather."""
    n_columns = draw(st.integers(1, 2))
    lengths = draw(st.lists(st.integers(2, 60), min_size=1, max_size=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    series = [rng.normal(size=(n, n_columns)).astype("float32") + 1.0 for n in lengths]
    patch = draw(st.integers(1, 4))
    lookback = patch * draw(st.integers(1, 6))
    horizon = draw(st.integers(1, 5))
    picks = draw(st.lists(st.tuples(st.integers(0, len(lengths) - 1), st.floats(0, 1)), min_size=1, max_size=8))
    windows = []
    for index, where in picks:
        if lengths[index] > horizon:
            windows.append((index, 1 + int(where * (lengths[index] - horizon - 1))))
    return series, lookback, horizon, patch, windows


def reference_window(series, origin, lookback, horizon, patch):
    """The definition, written the slow way: the newest whole patches before `origin`, right-padded."""
    n_valid = min(origin, lookback)
    n_valid -= n_valid % patch
    values = np.zeros((lookback, series.shape[1]), dtype="float32")
    values[:n_valid] = series[origin - n_valid : origin]
    return values, n_valid, series[origin : origin + horizon, 0]


@FEW
@given(panels())
def test_gathered_windows_match_the_definition(panel):
    series, lookback, horizon, patch, windows = panel
    if not windows:
        return
    source = WindowSource(series, lookback, horizon, patch)
    index, origins = np.array(windows).T
    inputs, targets = source.gather_fn(with_target=True)(index, origins)
    for row, (i, origin) in enumerate(windows):
        values, n_valid, target = reference_window(series[i], origin, lookback, horizon, patch)
        np.testing.assert_array_equal(inputs["values"].numpy()[row], values)
        assert inputs["length"].numpy()[row] == n_valid
        np.testing.assert_array_equal(targets.numpy()[row], target)


@FEW
@given(panels())
def test_serving_graph_windows_raw_values_as_training_did(panel):
    """The exported model's in-graph scaling and windowing equal scaling first, then gathering."""
    from forecaster.serving.graph import ScaleWindow

    series, lookback, horizon, patch, windows = panel
    if not windows:
        return
    scalers = [fit_scaler("standard", s.astype("float64")) for s in series]
    source = WindowSource(
        [sc.transform(s.astype("float64")) for sc, s in zip(scalers, series)], lookback, horizon, patch
    )
    index, origins = np.array(windows).T
    expected = source.gather_fn(with_target=False)(index, origins)

    raw = np.full((len(windows), lookback, series[0].shape[1]), np.nan, dtype="float32")  # padding is junk
    lengths = np.minimum(origins, lookback).astype("int32")
    for row, (i, origin) in enumerate(windows):
        raw[row, : lengths[row]] = series[i][origin - lengths[row] : origin]
    center = np.stack([scalers[i].center for i in index])
    scale = np.stack([scalers[i].scale for i in index])
    scaled, n_valid = ScaleWindow(lookback, patch, dtype="float64")([raw, lengths, center, scale])
    np.testing.assert_allclose(scaled.numpy(), expected["values"].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(n_valid.numpy(), expected["length"].numpy())


@FEW
@given(
    length=st.integers(1, 400),
    horizon=st.integers(1, 30),
    lookback=st.integers(1, 60),
    val_fraction=st.floats(0.05, 0.5),
    holdout=st.integers(0, 50),
)
def test_chronological_split_never_overlaps(length, horizon, lookback, val_fraction, holdout):
    cfg = WindowConfig(horizon=horizon, lookback=lookback, val_fraction=val_fraction, holdout=holdout)
    split = split_series(length, cfg)
    if split is None:
        assert length < min_length(cfg)
        return
    assert length >= min_length(cfg) and split_series(min_length(cfg), cfg) is not None
    train, val = train_origins(split, cfg), val_origins(split, cfg)
    assert len(train) and len(val)
    assert max(train) + horizon <= split.n_train <= min(val)  # training targets end before validation starts
    assert max(val) + horizon <= split.n_fit == length - holdout  # nothing reaches the held-out tail


@FEW
@given(
    kind=st.sampled_from(["standard", "minmax", "robust", "none"]),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 200),
    level=st.floats(-1e6, 1e6),
    spread=st.sampled_from([0.0, 1e-3, 1.0, 1e4]),
)
def test_scaling_is_finite_and_invertible(kind, seed, n, level, spread):
    values = level + spread * np.random.default_rng(seed).normal(size=(n, 2))
    scaler = fit_scaler(kind, values)
    scaled = scaler.transform(values)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaler.inverse(scaled[:, 0]), values[:, 0], rtol=1e-9, atol=1e-6 * (1 + abs(level)))
    # unit spread where the spread is not tiny against the size (below 1e-9 of it the size scales: fit_scaler)
    if kind == "standard" and spread > 0 and n > 1 and values[:, 0].std() > 1e-9 * np.abs(values[:, 0]).max():
        assert abs(scaled[:, 0].mean()) < 1e-6 and scaled[:, 0].std() == pytest.approx(1.0, rel=1e-6)
