"""Fill Indonesian translations into a catalog from a JSON file of {msgid: msgstr}.

    .venv/bin/python scripts/po_fill.py kiosk translations.json

Used when adding many strings at once; entries already translated are kept
unless the JSON gives them again. Prints what is still untranslated.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main():
    surface, source = sys.argv[1], sys.argv[2]
    path = Path(surface) / "translations" / "id" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="id")
    texts = json.loads(Path(source).read_text(encoding="utf-8"))
    for message in catalog:
        if message.id and message.id in texts:
            message.string = texts[message.id]
            message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=100)
    missing = [m.id for m in catalog if m.id and not m.string]
    for m in missing:
        print("untranslated:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
