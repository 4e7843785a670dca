"""Times and frequencies as a person reads them: a date without a midnight time, a frequency in words."""

from __future__ import annotations

import re
from typing import Any

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
DAYS = {"MON": "Monday", "TUE": "Tuesday", "WED": "Wednesday", "THU": "Thursday", "FRI": "Friday",
        "SAT": "Saturday", "SUN": "Sunday"}  # fmt: skip
SHORT = [month[:3] for month in MONTHS]
# pandas' frequency name -> (the word for one step, the unit for several)
WORDS = {
    "s": ("every second", "seconds"), "min": ("every minute", "minutes"), "h": ("hourly", "hours"),
    "D": ("daily", "days"), "B": ("business days", "business days"), "W": ("weekly", "weeks"),
    "M": ("monthly", "months"), "MS": ("monthly, month starts", "months"), "ME": ("monthly, month ends", "months"),
    "Q": ("quarterly", "quarters"), "QS": ("quarterly, quarter starts", "quarters"),
    "QE": ("quarterly, quarter ends", "quarters"), "Y": ("yearly", "years"), "YS": ("yearly, year starts", "years"),
    "YE": ("yearly, year ends", "years"), "A": ("yearly", "years"), "AS": ("yearly, year starts", "years"),
}  # fmt: skip


def plain_time(moment: Any) -> str:
    """A time as text, a date alone when it is midnight (`1965-01-01`, not `1965-01-01 00:00:00`); a step
    number as it is."""
    text = str(moment)
    return text[:-9] if text.endswith(" 00:00:00") else text


def frequency_words(freq: str) -> str:
    """The frequency in words, for a note (`QS-OCT`: quarterly, quarter starts, in October); the code itself
    is what `--freq` takes."""
    if freq.startswith("int:"):
        step = int(freq.split(":")[1])
        return "integer steps" if step == 1 else f"integer steps of {step}"
    found = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-([A-Za-z]+))?", freq)
    if not found or found.group(2) not in WORDS:
        return freq
    count, name, anchor = int(found.group(1) or 1), found.group(2), (found.group(3) or "").upper()
    words = WORDS[name][0] if count == 1 else f"every {count} {WORDS[name][1]}"
    if anchor in DAYS:  # a week's rows are dated on that weekday, whatever day a user's weeks begin or end
        words += f", dated on {DAYS[anchor]}s"
    elif anchor[:3].title() in SHORT:
        first = SHORT.index(anchor[:3].title())
        months = sorted({(first + 3 * k) % 12 for k in range(4)}) if name.startswith("Q") else [first]
        ends = "ending" if name.endswith(("E", "Q")) or name in ("A", "Y") else "starting"
        unit = "quarters" if name.startswith("Q") else "years"
        words = f"{words.split(',')[0]}, {unit} {ends} in {', '.join(SHORT[m] for m in months)}"
    return words


def frequency_named(freq: str) -> str:
    """`h (hourly)`, `QS-OCT (quarterly, quarter starts, ...)`: the code `--freq` takes, and its words."""
    words = frequency_words(freq)
    return freq if words == freq else f"{freq} ({words})"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 window`, `3 windows`, `2 series`: a count with its noun in the number it takes."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
