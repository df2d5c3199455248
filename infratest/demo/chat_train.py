"""Count the demo chat model's n-grams in ``chat_corpus.txt`` and write ``chat_model.json.gz``.

Run ``python -m infratest.demo.chat_train``. The corpus is prose written for this project
(so it ships with no licence question); counting is exact, so the file is the same every run.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

from infratest.demo.chat_model import DEFAULT_CHAT_MODEL, END, encode, load_chat_model

CORPUS = Path(__file__).with_name("chat_corpus.txt")
ORDER = 5  # contexts of up to four characters: words, not just letters, and still small


def training_text(corpus: str) -> str:
    """Paragraphs (blank-line separated) with whitespace collapsed, each ended by END."""
    paragraphs = [" ".join(p.split()) for p in corpus.split("\n\n")]
    return "".join(p + END for p in paragraphs if p)


def count(text: str, order: int = ORDER) -> list[dict[str, dict[str, int]]]:
    """counts[k][context][next]: how often ``next`` follows each ``k``-character context."""
    tables: list[defaultdict[str, Counter[str]]] = [defaultdict(Counter) for _ in range(order)]
    for i, ch in enumerate(text):
        for k in range(min(order - 1, i) + 1):
            tables[k][text[i - k : i]][ch] += 1
    return [{ctx: dict(nexts) for ctx, nexts in table.items()} for table in tables]


def main(argv: list[str] | None = None) -> int:
    """Count, write, and report the file's size and a sample continuation."""
    parser = argparse.ArgumentParser(prog="python -m infratest.demo.chat_train")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHAT_MODEL)
    args = parser.parse_args(argv)
    text = training_text(args.corpus.read_text(encoding="utf-8"))
    args.out.write_bytes(encode(ORDER, count(text)))
    sample = "".join(load_chat_model(args.out).tokens("The keeper", 16))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {len(text)} characters")
    print(f"'The keeper' continues: {sample!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
