"""A generated sequence-to-sequence task: dates written in words -> ISO 8601.

The seq2seq recipe's tests and benchmark train on it: a small, exactly
checkable translation task that needs no download.
"""

from __future__ import annotations

import datetime
import random

Pair = tuple[str, str]


MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_ONES = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}


def number_in_words(number: int) -> str:
    """0-99 in words: `42` -> `"forty-two"`."""
    if number < 20:
        return _ONES[number]
    tens, ones = divmod(number, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def ordinal_in_words(number: int) -> str:
    """1-31 as an ordinal in words: `23` -> `"twenty-third"`."""
    if number < 20:
        return _ORDINAL_ONES[number]
    tens, ones = divmod(number, 10)
    return _ORDINAL_TENS[number] if not ones else f"{_TENS[tens]}-{_ORDINAL_ONES[ones]}"


def year_in_words(year: int, rng: random.Random) -> str:
    """A year of 1900-2099 as people say it: `"nineteen eighty-four"`, `"two thousand and six"`."""
    century, rest = divmod(year, 100)
    if century == 19 or (century == 20 and rest >= 10 and rng.random() < 0.5):
        if rest == 0:
            return f"{number_in_words(century)} hundred"
        return f"{number_in_words(century)} {'oh ' + _ONES[rest] if rest < 10 else number_in_words(rest)}"
    if rest == 0:
        return "two thousand"
    return f"two thousand {rng.choice(('and ', ''))}{number_in_words(rest)}"


def date_in_words(date: datetime.date, rng: random.Random) -> str:
    """One of several ways to write a date in words, chosen by `rng`."""
    day, month, year = ordinal_in_words(date.day), MONTHS[date.month - 1], year_in_words(date.year, rng)
    weekday = WEEKDAYS[date.weekday()]
    formats = (
        f"{day} of {month} {year}",
        f"the {day} of {month}, {year}",
        f"{month} {day}, {year}",
        f"{month} the {day} {year}",
        f"{weekday}, {month} {day}, {year}",
        f"{weekday} the {day} of {month} {year}",
    )
    text = rng.choice(formats)
    return text.capitalize() if rng.random() < 0.3 else text


def date_pairs(count: int, seed: int = 0) -> list[Pair]:
    """Generate `count` pairs of a date in words and its ISO 8601 form.

    Dates are uniform over 1900-01-01 to 2099-12-31; the wording (six
    layouts, year spoken in several ways, optional capital) is drawn with the
    same seed, so a seed always gives the same pairs:

    ```python
    ("thursday the twenty-third of november two thousand and six", "2006-11-23")
    ```

    Args:
        count: Number of pairs.
        seed: Seed of the draws.
    """
    rng = random.Random(seed)
    first, last = datetime.date(1900, 1, 1).toordinal(), datetime.date(2099, 12, 31).toordinal()
    pairs = []
    for _ in range(count):
        date = datetime.date.fromordinal(rng.randint(first, last))
        pairs.append((date_in_words(date, rng), date.isoformat()))
    return pairs
