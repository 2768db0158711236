"""Indonesian number words, split into the words a voice pack has clips for."""

# Index = digit. The words double as voice-pack clip names, so they stay
# lowercase ASCII.
UNITS = ["nol", "satu", "dua", "tiga", "empat",
         "lima", "enam", "tujuh", "delapan", "sembilan"]

MAX_NUMBER = 9999


def _below_100(n: int) -> list[str]:
    # Callers never pass 0 here: a zero part is simply left unsaid.
    if n < 10:
        return [UNITS[n]]
    if n == 10:
        return ["sepuluh"]
    if n == 11:
        return ["sebelas"]
    if n < 20:
        return [UNITS[n - 10], "belas"]
    tens, rest = divmod(n, 10)
    return [UNITS[tens], "puluh"] + (_below_100(rest) if rest else [])


def _count_of(count: int, one: str, unit: str) -> list[str]:
    """`count` hundreds or thousands (count < 10): none, "se-" for one ("seratus"), else "dua ratus"."""
    if count == 0:
        return []
    if count == 1:
        return [one]
    return [UNITS[count], unit]


def _below_1000(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    return _count_of(hundreds, "seratus", "ratus") + (_below_100(rest) if rest else [])


def words(n: int) -> list[str]:
    """Indonesian words for 0..9999 as clip words, e.g. 12 -> ["dua", "belas"].

    Raises ValueError outside 0..9999 and TypeError for anything but an int."""
    # bool is an int subclass; True must not quietly read as "satu".
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}")
    if n == 0:
        return ["nol"]
    thousands, rest = divmod(n, 1000)
    return _count_of(thousands, "seribu", "ribu") + (_below_1000(rest) if rest else [])


def spell(n: int) -> str:
    """The words of `n` as one string, e.g. 250 -> "dua ratus lima puluh"."""
    return " ".join(words(n))


def digits(s: str) -> list[str]:
    """Digit-by-digit reading of a string of digits, e.g. "001" -> ["nol", "nol", "satu"]."""
    # isdigit() would accept "²" and other Unicode digits; only ASCII is a ticket digit.
    if not s or any(c not in "0123456789" for c in s):
        raise ValueError(f"{s!r} is not a string of digits 0-9")
    return [UNITS[int(c)] for c in s]
