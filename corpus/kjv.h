// The word-count corpus: the King James Bible as Debian's bible-kjv package prints it. The
// word-count experiment measures on it and the word-count test checks against it, so it lies
// below both (//corpus), not in either.
//
// `bible -f gen1:1-rev22:21` writes every verse on its own line after its reference ("Ge1:1 In the
// beginning ..."), 4,404,412 bytes of ASCII. experiments/python/mapreduce_wordcount.py reads the
// same text the same way, so both sides count the same words.
#ifndef PROCPAR_CORPUS_KJV_H_
#define PROCPAR_CORPUS_KJV_H_

#include <string>

namespace procpar::corpus {

// The whole text. Throws std::runtime_error naming the package to install if `bible` is missing
// or prints less than the whole Bible.
std::string kjv_text();

}  // namespace procpar::corpus

#endif  // PROCPAR_CORPUS_KJV_H_
