"""CPython reference of experiment mapreduce_wordcount: word count with multiprocessing.Pool and
collections.Counter, the seed's plan ("Use this to count words in some big document collection",
citing collections.Counter).

The corpus is the King James Bible as Debian's bible-kjv prints it (`bible -f gen1:1-rev22:21`,
4.4 MB), repeated; the tokenisation is the library's (primitives/wordcount.h): lower-cased runs of
ASCII letters and apostrophes, re.findall(rb"[a-z']+", text.lower()) on bytes. The text is cut
into one chunk per worker at word boundaries, each chunk is sent to a worker (pickled, as
multiprocessing does), counted into a Counter there, and the Counters are merged by the caller.
"""

import collections
import re
import subprocess

import common

WORD = re.compile(rb"[a-z']+")
WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'")
KJV_COMMAND = ["bible", "-f", "gen1:1-rev22:21"]


def kjv_text():
    """The whole King James Bible, one verse per line, as bytes."""
    try:
        text = subprocess.run(KJV_COMMAND, check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise SystemExit("mapreduce_wordcount: `bible` not found; install Debian's bible-kjv "
                         "(scripts/setup.sh)")
    if len(text) < 4_000_000:
        raise SystemExit(f"mapreduce_wordcount: `{' '.join(KJV_COMMAND)}` printed only "
                         f"{len(text)} bytes; is bible-kjv-text installed?")
    return text


def count_chunk(chunk):
    return collections.Counter(WORD.findall(chunk.lower()))


def split_at_word_boundaries(text, parts):
    """As split_at_word_boundaries in primitives/algorithms/wordcount.cc: nearly equal parts, each cut
    moved forward past the word it falls in."""
    chunks = []
    begin = 0
    for i in range(1, parts + 1):
        if begin >= len(text):
            break
        cut = max(len(text) * i // parts, begin)
        while cut < len(text) and text[cut] in WORD_BYTES:
            cut += 1
        if cut > begin:
            chunks.append(text[begin:cut])
        begin = cut
    return chunks


def word_count(pool, text, workers):
    total = collections.Counter()
    for counter in pool.map(count_chunk, split_at_word_boundaries(text, workers), chunksize=1):
        total.update(counter)
    return sorted(total.items(), key=lambda item: (-item[1], item[0]))


def word_count_serial(text):
    return sorted(count_chunk(text).items(), key=lambda item: (-item[1], item[0]))


def main():
    args = common.parse_args(__doc__)
    table = common.Table("mapreduce_wordcount", args)
    copies = 1 if table.quick else 8
    text = kjv_text() * copies
    n = len(text)

    expected = word_count_serial(text)
    common.require(expected[0][0] == b"the", "the most frequent word of the KJV is 'the'")

    def check(counts):
        common.require(counts == expected, "parallel word count differs from the serial one")

    table.measure(lambda: word_count_serial(text), variant="wordcount", backend="cpython_serial",
                  n=n, p=1, check=check, copies=copies)
    for p in common.worker_counts():
        pool = table.pool(p)
        table.measure(lambda: word_count(pool, text, p), variant="wordcount",
                      backend="cpython_process", n=n, p=p, check=check, copies=copies)
    table.write()


if __name__ == "__main__":
    main()
