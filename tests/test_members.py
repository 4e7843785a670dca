"""Ensemble members that differ as declared: each reads its share of the lookback (its latest points), in
turn, besides its own instance norm and seed; the ensemble, its training and its export treat it as one."""

import numpy as np
import pytest

from forecaster.config import ModelConfig
from forecaster.errors import SettingsError
from forecaster.models.layers import RecentWindow
from forecaster.models.network import build_model, member_config, member_name


def test_recent_window_keeps_the_latest_valid_points_right_padded():
    values = np.arange(3 * 8, dtype="float32").reshape(3, 8, 1)
    kept, length = RecentWindow(4)([values, np.array([8, 6, 3], dtype="int32")])
    assert np.asarray(kept)[:, :, 0].tolist() == [[4, 5, 6, 7], [10, 11, 12, 13], [16, 17, 18, 0]]
    assert np.asarray(length).tolist() == [4, 4, 3]


def test_members_read_their_declared_share_of_the_lookback_in_turn():
    cfg = ModelConfig(lookback=48, horizon=6, patch=12, ensemble=3, member_windows=(1.0, 0.5, 0.3),
                      instance_norm="mean_std,last_std", layers=(8,))  # fmt: skip
    members = [member_config(cfg, k) for k in range(3)]
    assert [(m.recent, m.instance_norm) for m in members] == [(0, "mean_std"), (24, "last_std"), (12, "mean_std")]
    assert all(member_config(m, 0) == m for m in members)  # a member's config is its own member 0
    model = build_model(cfg)
    rng = np.random.default_rng(0)
    inputs = {"values": rng.normal(size=(4, 48, 1)).astype("float32"), "length": np.full(4, 48, dtype="int32")}
    older = dict(inputs, values=inputs["values"].copy())
    older["values"][:, :24] += 5.0  # change what only the whole-window member reads
    for k, member in enumerate(members):
        network = model.get_layer(member_name(k))
        same = np.allclose(network(inputs).numpy(), network(older).numpy(), atol=1e-5)
        assert same == bool(member.recent and member.recent <= 24)


def test_a_share_outside_0_to_1_is_refused():
    with pytest.raises(SettingsError, match="member-windows must be shares of the lookback"):
        ModelConfig(lookback=48, horizon=6, member_windows=(1.5,))
