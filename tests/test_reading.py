"""Reading data honestly: no silent misreading of dates, years, columns or magnitudes."""

import numpy as np
import pytest
from click.testing import CliRunner

from forecaster.cli import main
from forecaster.config import DataConfig
from forecaster.data.panel import load_panel
from forecaster.data.scaling import fit_scaler


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_day_first_dates_are_read_day_first_when_a_day_above_12_decides(tmp_path):
    days = [f"{d:02d}/01/2021" for d in range(1, 32)] + [f"{d:02d}/02/2021" for d in range(1, 29)]
    path = write(tmp_path, "date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(days)))
    panel = load_panel(path, DataConfig(target="y", time_col="date"))
    series = panel.series[0]
    assert len(series) == 59 and series.n_filled == 0 and panel.freq == "D"
    assert str(series.time_at(0)).startswith("2021-01-01") and str(series.time_at(58)).startswith("2021-02-28")


def test_month_first_dates_are_read_month_first(tmp_path):
    days = [f"01/{d:02d}/2021" for d in range(1, 32)]
    path = write(tmp_path, "date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(days)))
    series = load_panel(path, DataConfig(target="y", time_col="date")).series[0]
    assert len(series) == 31 and str(series.time_at(30)).startswith("2021-01-31")


def test_ambiguous_day_month_dates_are_refused_with_the_fix(tmp_path):
    days = [f"{m:02d}/{d:02d}/2021" for m in (1, 2) for d in range(1, 13)]
    path = write(tmp_path, "date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(days)))
    result = CliRunner().invoke(main, ["doctor", str(path), "--target", "y", "--time-col", "date"])
    assert result.exit_code == 2 and "could be day/month or month/day" in result.output and "ISO" in result.output
    assert "--dayfirst or --monthfirst" in result.output


def test_dayfirst_and_monthfirst_settle_what_the_data_cannot(tmp_path):
    firsts = [f"01/{m:02d}/2021" for m in range(1, 13)]  # the first of each month, or 12 days of January
    path = write(tmp_path, "date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(firsts)))
    months = load_panel(path, DataConfig(target="y", time_col="date", dayfirst=True))
    days = load_panel(path, DataConfig(target="y", time_col="date", dayfirst=False))
    assert months.freq == "MS" and str(months.series[0].time_at(11)).startswith("2021-12-01")
    assert days.freq == "D" and str(days.series[0].time_at(11)).startswith("2021-01-12")
    result = CliRunner().invoke(main, ["doctor", str(path), "--target", "y", "--time-col", "date", "--dayfirst"])
    assert "frequency MS" in result.output, result.output
    clear = write(tmp_path, "date,y\n13/01/2021,1\n14/01/2021,2\n", "clear.csv")
    result = CliRunner().invoke(main, ["doctor", str(clear), "--target", "y", "--time-col", "date", "--monthfirst"])
    assert result.exit_code == 2 and "'13/01/2021' cannot be month first" in result.output


def test_float_years_are_years(tmp_path):
    path = write(tmp_path, "year,y\n" + "".join(f"{1700 + i}.0,{i % 7}\n" for i in range(60)))
    series = load_panel(path, DataConfig(target="y", time_col="year")).series[0]
    assert series.time_at(0) == 1700 and series.time_at(59) == 1759
    bad = write(tmp_path, "year,y\n1700.5,1\n1701.5,2\n", "frac.csv")
    result = CliRunner().invoke(main, ["doctor", str(bad), "--target", "y", "--time-col", "year"])
    assert result.exit_code == 2 and "not a whole time step" in result.output


def test_duplicate_column_names_are_an_error(tmp_path):
    path = write(tmp_path, "date,y,y\n2021-01-01,1,2\n2021-01-02,3,4\n")
    result = CliRunner().invoke(main, ["doctor", str(path), "--target", "y", "--time-col", "date"])
    assert result.exit_code == 2 and "column 'y' appears twice in the header" in result.output


def test_values_whose_square_overflows_are_refused_with_the_row(tmp_path):
    path = write(tmp_path, "y\n1\n2\n1e155\n4\n")
    result = CliRunner().invoke(main, ["doctor", str(path), "--target", "y"])
    assert result.exit_code == 2 and "row 4" in result.output and "too large" in result.output


@pytest.mark.parametrize("level", [1e-13, 1.0, 1e9])
def test_a_series_keeps_its_own_spread_at_any_level(level):
    rng = np.random.default_rng(0)
    values = (level + level * 1e-3 * rng.normal(size=200))[:, None]
    scaler = fit_scaler("standard", values)
    np.testing.assert_allclose(scaler.scale, values.std(axis=0), rtol=1e-6)
    constant = fit_scaler("standard", np.full((50, 1), 5.0) + np.arange(50)[:, None] * 1e-15)
    assert constant.scale[0] == pytest.approx(5.0)  # no spread worth the name: scaled by its size


def test_a_file_of_very_many_columns_reads_only_the_named_ones(tmp_path):
    names = [f"c{i}" for i in range(20_000)]
    rows = "".join(f"{i % 7}," + ",".join(["1"] * len(names)) + "\n" for i in range(40))
    path = write(tmp_path, "y," + ",".join(names) + "\n" + rows)
    series = load_panel(path, DataConfig(target="y")).series[0]
    assert len(series) == 40 and series.values[:7, 0].tolist() == list(range(7))
    result = CliRunner().invoke(main, ["doctor", str(path), "--target", "nope"])
    assert result.exit_code == 2 and "no column 'nope' among its 20,001 columns" in result.output
    assert "give --wide" in result.output and len(result.output) < 300  # not a list of 20,001 names


def test_errors_quote_at_most_80_characters_of_a_cell(tmp_path):
    path = write(
        tmp_path,
        "time,y\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 20)) + "2024-01-20," + "x" * 5000 + "\n",
    )
    result = CliRunner().invoke(main, ["train", str(path), "--target", "y", "--time-col", "time", "--horizon", "2"])
    assert result.exit_code == 2 and "row 21, column 'y': 'xxx" in result.output and "is not a number" in result.output
    assert len(result.output) < 250
    doctor = CliRunner().invoke(main, ["doctor", str(path), "--target", "y", "--time-col", "time"])  # listed
    [problem] = [line for line in doctor.output.splitlines() if line.startswith("problem: ")]
    assert doctor.exit_code == 2 and "row 21, column 'y': 'xxx" in problem and len(problem) < 250


def test_ids_are_text_as_written_and_mixed_id_types_are_refused(tmp_path):
    import pandas as pd
    import pytest

    from forecaster import Forecaster
    from forecaster.config import DataConfig
    from forecaster.data.panel import load_panel
    from forecaster.errors import ForecasterError

    path = tmp_path / "ids.csv"
    path.write_text("id,t,y\n02134,1,1\n02134,2,2\n02134,3,3\n007,1,5\n007,2,6\n7,1,7\n7,2,8\n")
    panel = load_panel(path, DataConfig(target="y", time_col="t", id_col="id"))
    assert [(s.series_id, len(s)) for s in panel.series] == [("02134", 3), ("007", 2), ("7", 2)]
    mixed = pd.DataFrame({"id": [1, 1, "1", "1"], "t": [1, 2, 1, 2], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ForecasterError, match="mixes text and int ids"):
        Forecaster(horizon=1, target="y", time_col="t", id_col="id").doctor(mixed)


def test_decimal_commas_are_read_in_semicolon_files_and_refused_where_ambiguous(tmp_path):
    import pandas as pd
    import pytest

    from forecaster import Forecaster
    from forecaster.config import DataConfig
    from forecaster.data.panel import load_panel
    from forecaster.errors import ForecasterError

    path = tmp_path / "semi.csv"
    path.write_text("date;y\n2024-01-01;5,841\n2024-01-02;6,2\n2024-01-03;1.234,5\n2024-01-04;7\n")
    panel = load_panel(path, DataConfig(target="y", time_col="date"))
    assert panel.series[0].values.ravel().tolist() == [5.841, 6.2, 1234.5, 7.0]
    assert any("read ',' as the decimal mark" in note for note in panel.notes)
    dots = tmp_path / "dots.csv"
    dots.write_text("date;y\n2024-01-01;5.5\n2024-01-02;6.25\n2024-01-03;7.125\n")  # '.' decimals: as written
    assert load_panel(dots, DataConfig(target="y", time_col="date")).series[0].values.ravel().tolist() == [
        5.5,
        6.25,
        7.125,
    ]
    frame = pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-03"], "y": ["1.234,5", "2", "3"]})
    [problem] = Forecaster(horizon=1, target="y", time_col="date").doctor(frame)["problems"]
    assert "has a decimal comma" in problem
    with pytest.raises(ForecasterError, match="has a decimal comma"):
        Forecaster(horizon=1, target="y", time_col="date").fit(frame)


def test_zoned_timestamps_are_read_as_utc_keeping_the_zone_and_steps_near_2_63_are_refused(tmp_path):
    import pytest

    from forecaster.config import DataConfig
    from forecaster.data.grid import future_times
    from forecaster.data.panel import load_panel
    from forecaster.errors import ForecasterError

    path = tmp_path / "tokyo.csv"
    path.write_text("time,y\n" + "".join(f"2024-01-01T{h:02d}:00:00+09:00,{h}\n" for h in range(10)))
    panel = load_panel(path, DataConfig(target="y", time_col="time"))
    assert str(panel.series[0].time_at(0)) == "2023-12-31 15:00:00"
    assert panel.zone == "UTC+09:00"
    assert any("timestamps in zone UTC+09:00 are handled as UTC" in note for note in panel.notes)
    with pytest.raises(ForecasterError, match="would pass 2\\*\\*63 - 1"):
        future_times(2**63 - 5, "int:1", 10)
    assert list(future_times(2**63 - 11, "int:1", 10))[-1] == 2**63 - 1
