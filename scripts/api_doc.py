"""Write the endpoint list of docs/api.md from the served OpenAPI document.

    .venv/bin/python scripts/api_doc.py

Replaces what lies between the markers `<!-- endpoints -->` and
`<!-- /endpoints -->` in docs/api.md with a table per tag: method, path,
who may call it, and the summary the route declares. The hand-written
contract around it stays as it is.
"""

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web import create_app  # noqa: E402

START, END = "<!-- endpoints -->", "<!-- /endpoints -->"


def endpoint_tables(spec):
    """Markdown tables of every operation, grouped by tag in the document's order."""
    by_tag = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method.startswith("x-") or method == "parameters":
                continue
            tag = (op.get("tags") or ["Other"])[0]
            by_tag.setdefault(tag, []).append((path, method.upper(), op.get("summary") or ""))
    lines = []
    for tag in sorted(by_tag):
        lines += ["", f"### {tag}", "", "| method | path | what |", "|---|---|---|"]
        for path, method, summary in sorted(by_tag[tag]):
            lines.append(f"| {method} | `{path}` | {summary.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE": str(Path(tmp) / "mpp.db"), "SECRET_KEY": "doc",
                          "TESTING": True})
        spec = app.test_client().get("/api/v1/openapi.json").get_json()
    doc = ROOT / "docs" / "api.md"
    text = doc.read_text()
    block = f"{START}\n{endpoint_tables(spec)}{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: block, text, flags=re.S)
    doc.write_text(text)
    print(f"{doc}: {sum(len(v) for v in spec['paths'].values())} operations")


if __name__ == "__main__":
    main()
