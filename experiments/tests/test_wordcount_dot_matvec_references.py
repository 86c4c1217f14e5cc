"""Tests of the CPython references of mapreduce_wordcount, dot_flop_mop and matvec_blas: their
parallel algorithms give the serial answer, and the word count's tokenisation and cuts are the
library's (primitives/wordcount.h)."""

import collections
import math
import multiprocessing
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import common  # noqa: E402
import dot_flop_mop  # noqa: E402
import mapreduce_wordcount  # noqa: E402
import matvec_blas  # noqa: E402


class WordCountReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = multiprocessing.get_context("fork").Pool(2)

    @classmethod
    def tearDownClass(cls):
        cls.pool.terminate()
        cls.pool.join()

    def test_tokenisation_is_the_librarys(self):
        # The same cases as primitives/algorithms/wordcount_test.cc (Tokenisation.FollowsTheWrittenRule).
        def counts(text):
            return sorted(mapreduce_wordcount.count_chunk(text).items())
        self.assertEqual(counts(b"The LORD's house; the lord's HOUSE"),
                         [(b"house", 2), (b"lord's", 2), (b"the", 2)])
        self.assertEqual(counts(b"Ge1:1 In"), [(b"ge", 1), (b"in", 1)])
        self.assertEqual(counts("na\u00efve 'tis'".encode()),
                         [(b"'tis'", 1), (b"na", 1), (b"ve", 1)])
        self.assertEqual(counts(b" ,.\n0123"), [])

    def test_cuts_fall_between_words_and_cover_the_text(self):
        text = b"alpha beta  gamma,delta epsilon"
        for parts in range(1, 40):
            chunks = mapreduce_wordcount.split_at_word_boundaries(text, parts)
            self.assertLessEqual(len(chunks), parts)
            self.assertEqual(b"".join(chunks), text)
            position = 0
            for chunk in chunks:
                position += len(chunk)
                self.assertTrue(position == len(text)
                                or text[position] not in mapreduce_wordcount.WORD_BYTES)

    def test_parallel_count_equals_a_count_written_differently(self):
        rng = random.Random(1)
        alphabet = b"aAbZz' .,\n9\xc3"
        for n in (0, 1, 2, 7, 100, 1000):
            text = bytes(rng.choice(alphabet) for _ in range(n))
            expected = collections.Counter()
            word = []
            for byte in text + b" ":
                if chr(byte).isascii() and (chr(byte).isalpha() or byte == ord("'")):
                    word.append(chr(byte).lower())
                elif word:
                    expected["".join(word).encode()] += 1
                    word = []
            expected = sorted(expected.items(), key=lambda item: (-item[1], item[0]))
            self.assertEqual(mapreduce_wordcount.word_count_serial(text), expected)
            for workers in (1, 2, 3, 8):
                self.assertEqual(mapreduce_wordcount.word_count(self.pool, text, workers),
                                 expected, (n, workers))


class DotAndMatvecReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = multiprocessing.get_context("fork").Pool(2)

    @classmethod
    def tearDownClass(cls):
        cls.pool.terminate()
        cls.pool.join()

    def test_partitioned_dot_and_reduce_equal_the_exact_sums_within_the_bound(self):
        rng = random.Random(2)
        for n in (1, 2, 3, 5, 64, 1001):
            xs = [rng.uniform(-1, 1) for _ in range(n)]
            ys = [rng.uniform(-1, 1) for _ in range(n)]
            for p in (1, 2, 3):
                if p > n:
                    continue
                dot_check = dot_flop_mop.within(2 * sum(abs(x * y) for x, y in zip(xs, ys)),
                                                n + 1, math.fsum(x * y for x, y in zip(xs, ys)),
                                                "dot")
                dot_check(dot_flop_mop.partitioned_dot(self.pool, xs, ys, p))
                sum_check = dot_flop_mop.within(sum(abs(x) for x in xs), n, math.fsum(xs), "sum")
                sum_check(common.partitioned_reduce(self.pool, sum, xs, p))

    def test_a_wrong_dot_is_refused(self):
        check = dot_flop_mop.within(1.0, 10, 1.0, "dot")
        with self.assertRaises(AssertionError):
            check(1.1)

    def test_partitioned_matvec_equals_the_serial_one(self):
        rng = random.Random(3)
        for rows, cols in ((1, 1), (1, 9), (9, 1), (7, 5), (2, 3)):
            a = [[float(rng.randint(-9, 9)) for _ in range(cols)] for _ in range(rows)]
            x = [float(rng.randint(-9, 9)) for _ in range(cols)]
            expected = matvec_blas.rows_times_x((a, x))
            for p in (1, 2, 3):
                if p <= rows:
                    self.assertEqual(matvec_blas.partitioned_matvec(self.pool, a, x, p), expected)


if __name__ == "__main__":
    unittest.main()
