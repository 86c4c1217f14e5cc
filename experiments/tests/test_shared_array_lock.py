"""Tests of the CPython reference of shared_array_lock: the patterns cover the work exactly,
and the locked accesses lose no increment on a real process pool."""

import multiprocessing
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import shared_array_lock as ref  # noqa: E402


class PatternsTest(unittest.TestCase):
    def test_every_increment_is_made_once(self):
        for n in (1, 7, 64, 1000):
            for p in (1, 2, 3, 4):
                disjoint = [i for k in range(p) for i in ref.indices("disjoint", n, k, p)]
                self.assertEqual(disjoint, list(range(n)))
                interleaved = sorted(i for k in range(p)
                                     for i in ref.indices("interleaved", n, k, p))
                self.assertEqual(interleaved, list(range(n)))
                same = [i for k in range(p) for i in ref.indices("same", n, k, p)]
                self.assertEqual(len(same), n)
                self.assertTrue(all(0 <= i < ref.FEW_CELLS for i in same))

    def test_interleaved_workers_alternate(self):
        self.assertEqual(list(ref.indices("interleaved", 10, 1, 3)), [1, 4, 7])


class LockedAccessTest(unittest.TestCase):
    def test_locked_increments_from_processes_are_exact(self):
        n, p = 2000, 2
        ref._install(ref.make_arrays(n))
        context = multiprocessing.get_context("fork")
        with context.Pool(p, initializer=ref._install, initargs=(ref._arrays,)) as pool:
            for access in ref.EXACT:
                for pattern in ref.PATTERNS:
                    tasks = [(access, pattern, n, k, p) for k in range(p)]
                    pool.map(ref.increment, tasks, chunksize=1)
                    pool.map(ref.increment, tasks, chunksize=1)
                    self.assertEqual(ref.total(ref._arrays[(access, pattern)]), 2 * n,
                                     (access, pattern))
            for pattern in ref.PATTERNS:  # raw and locked_access run and never overcount
                for access in ("raw", "locked_access"):
                    tasks = [(access, pattern, n, k, p) for k in range(p)]
                    pool.map(ref.increment, tasks, chunksize=1)
                    self.assertLessEqual(ref.total(ref._arrays[(access, pattern)]), n)


if __name__ == "__main__":
    unittest.main()
