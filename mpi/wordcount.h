// Word count over the ranks of a communicator (primitives/wordcount.h's job, owner computes):
//
//   WordCounts counts = mpi::word_count(MPI_COMM_WORLD, text);   collective
//
// `text` is the same document on every rank (a file on a shared file system, mapped; the
// corpus //corpus:kjv). It is cut into p ranges at word boundaries (split_at_word_boundaries)
// and rank r counts only range r, with WordCounter, the serial kernel of primitives/wordcount.h.
// The counts are then merged by a distributed reduction, not gathered raw: each word belongs to
// one rank (a hash of the word modulo p), every rank sends each of its (word, count) pairs to
// that rank in one MPI_Alltoallv, and each rank adds up the counts of its own words. Finally
// every rank receives the merged counts (MPI_Allgatherv of each rank's share: the distinct
// words once, 12,866 for the King James Bible) and sorts them.
//
// Returns, on every rank, the counts sorted by count (highest first) then word: the same as
// count_words(text), whatever the number of ranks.
// Cost: |text|/p bytes scanned per rank; the shuffle moves each rank's distinct words once
// (about 15 bytes each: word, length, count); the final exchange gives every rank all distinct
// words; all independent of the text's length beyond the vocabulary.
#ifndef PROCPAR_MPI_WORDCOUNT_H_
#define PROCPAR_MPI_WORDCOUNT_H_

#include <mpi.h>

#include <string_view>

#include "primitives/wordcount.h"

namespace procpar::mpi {

WordCounts word_count(MPI_Comm comm, std::string_view text);

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_WORDCOUNT_H_
