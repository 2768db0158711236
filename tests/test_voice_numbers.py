import sys
from pathlib import Path

import pytest

# The repository root is not on sys.path until the project's pytest set-up
# (tests/conftest.py, owned elsewhere) puts it there; harmless once it does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from display.numbers import digits, spell, words  # noqa: E402


@pytest.mark.parametrize("n, expected", [
    (0, "nol"),
    (1, "satu"),
    (7, "tujuh"),
    (9, "sembilan"),
    (10, "sepuluh"),
    (11, "sebelas"),
    (12, "dua belas"),
    (15, "lima belas"),
    (19, "sembilan belas"),
    (20, "dua puluh"),
    (21, "dua puluh satu"),
    (30, "tiga puluh"),
    (99, "sembilan puluh sembilan"),
    (100, "seratus"),
    (101, "seratus satu"),
    (110, "seratus sepuluh"),
    (111, "seratus sebelas"),
    (112, "seratus dua belas"),
    (120, "seratus dua puluh"),
    (123, "seratus dua puluh tiga"),
    (199, "seratus sembilan puluh sembilan"),
    (200, "dua ratus"),
    (210, "dua ratus sepuluh"),
    (211, "dua ratus sebelas"),
    (250, "dua ratus lima puluh"),
    (999, "sembilan ratus sembilan puluh sembilan"),
    (1000, "seribu"),
    (1001, "seribu satu"),
    (1010, "seribu sepuluh"),
    (1011, "seribu sebelas"),
    (1019, "seribu sembilan belas"),
    (1100, "seribu seratus"),
    (1111, "seribu seratus sebelas"),
    (1200, "seribu dua ratus"),
    (2000, "dua ribu"),
    (2024, "dua ribu dua puluh empat"),
    (2100, "dua ribu seratus"),
    (3011, "tiga ribu sebelas"),
    (5500, "lima ribu lima ratus"),
    (9999, "sembilan ribu sembilan ratus sembilan puluh sembilan"),
])
def test_spell(n, expected):
    assert spell(n) == expected
    assert words(n) == expected.split()


def test_words_are_split_into_clip_words():
    assert words(12) == ["dua", "belas"]
    assert words(250) == ["dua", "ratus", "lima", "puluh"]
    assert words(1001) == ["seribu", "satu"]


def test_every_number_uses_the_known_words():
    known = {"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
             "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu"}
    for n in range(10000):
        assert set(words(n)) <= known, n
        # "nol" is only ever said alone, and "se-" forms never follow a "satu".
        assert n == 0 or "nol" not in words(n), n
        assert "satu ratus" not in spell(n) and "satu ribu" not in spell(n), n


@pytest.mark.parametrize("n", [-1, 10000, 123456])
def test_out_of_range(n):
    with pytest.raises(ValueError, match="outside 0..9999"):
        words(n)


@pytest.mark.parametrize("n", ["12", 1.0, None, True])
def test_not_an_int(n):
    with pytest.raises(TypeError):
        words(n)


@pytest.mark.parametrize("s, expected", [
    ("0", ["nol"]),
    ("001", ["nol", "nol", "satu"]),
    ("012", ["nol", "satu", "dua"]),
    ("1000", ["satu", "nol", "nol", "nol"]),
    ("9876543210", ["sembilan", "delapan", "tujuh", "enam", "lima", "empat", "tiga", "dua", "satu", "nol"]),
])
def test_digits(s, expected):
    assert digits(s) == expected


@pytest.mark.parametrize("s", ["", "12a", " 1", "-1", "1.0", "²"])
def test_digits_rejects(s):
    with pytest.raises(ValueError, match="not a string of digits"):
        digits(s)
