// SPDX-License-Identifier: Apache-2.0
/// @file
/// The input of the `map_reduce` jobs: a deterministic, seeded corpus of documents whose words
/// follow a Zipf law over a fixed vocabulary, the shape of natural-language text (a few words
/// very frequent, a long tail of rare ones), which is what makes a combiner pay off.
///
/// `Corpus(words, docs, seed)` draws `words` words by rank from Zipf(s = 1) over
/// `kVocabulary` distinct lower-case words of 4 to 9 letters, joins them with single spaces
/// into one text, and cuts it into `docs` documents of (nearly) equal word counts; a document
/// is an id and a `std::string_view` into that text. Generation is sequential and runs once per
/// fixture, outside timing. The same arguments give the same corpus (the generator is
/// `std::mt19937_64` with the uniform variate built by hand, not a standard distribution whose
/// output differs between standard libraries).
/// Reference: Zipf, "Human Behavior and the Principle of Least Effort" (1949); performance-anchors
/// §2.2 M-wc (word count over synthetic text).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cpb::patterns::map_reduce {

/// One input record: a document id and its text (words separated by single spaces).
struct Document {
  std::uint32_t id = 0;
  std::string_view text;
};

/// What every engine runs on: the documents, in id order.
using Input = std::span<const Document>;

class Corpus {
 public:
  static constexpr std::size_t kVocabulary = 1 << 16;

  /// @throws std::invalid_argument when `docs` is 0 (a corpus has at least one document).
  Corpus(std::size_t words, std::size_t docs, std::uint64_t seed,
         std::size_t vocabulary = kVocabulary, double zipf_s = 1.0)
      : words_(words) {
    if (docs == 0) throw std::invalid_argument("a corpus needs at least 1 document");
    if (vocabulary == 0 || vocabulary > kMaxVocabulary) {
      throw std::invalid_argument("the vocabulary must hold 1 to 26^4 words");
    }
    std::mt19937_64 rng(seed);
    const std::vector<std::string> vocab = make_vocabulary(vocabulary, rng);
    // cdf[r] = P(rank <= r) under Zipf(s): weight of rank r (0-based) is 1 / (r + 1)^s.
    std::vector<double> cdf(vocabulary);
    double sum = 0;
    for (std::size_t r = 0; r < vocabulary; ++r) {
      sum += 1.0 / std::pow(static_cast<double>(r + 1), zipf_s);
      cdf[r] = sum;
    }
    for (double& c : cdf) c /= sum;
    // Word w of the corpus starts at offsets[w]; a document is a run of whole words.
    std::vector<std::size_t> starts;
    starts.reserve(words + 1);
    text_.reserve(words * 8);
    for (std::size_t w = 0; w < words; ++w) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
      const auto rank = static_cast<std::size_t>(
          std::min<std::ptrdiff_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin(),
                                   static_cast<std::ptrdiff_t>(vocabulary - 1)));
      starts.push_back(text_.size());
      text_ += vocab[rank];
      text_ += ' ';
    }
    starts.push_back(text_.size());
    docs_.reserve(docs);
    for (std::size_t d = 0; d < docs; ++d) {
      const std::size_t first = words * d / docs;
      const std::size_t last = words * (d + 1) / docs;
      const std::size_t begin = starts[first];
      // Without the trailing space of its last word (an empty document stays empty).
      const std::size_t end = last > first ? starts[last] - 1 : begin;
      docs_.push_back(
          {static_cast<std::uint32_t>(d), std::string_view(text_).substr(begin, end - begin)});
    }
  }

  Corpus(const Corpus&) = delete;  // the documents point into text_
  Corpus& operator=(const Corpus&) = delete;

  [[nodiscard]] Input input() const { return docs_; }
  [[nodiscard]] std::size_t words() const { return words_; }
  /// The text's size, separators included: the input bytes of throughput in bytes/s.
  [[nodiscard]] std::size_t bytes() const { return text_.size(); }

 private:
  static constexpr std::size_t kMaxVocabulary = 26 * 26 * 26 * 26;

  /// `n` distinct words: rank r's word starts with a 4-letter code of a bijective scramble of r
  /// (so distinct codes give distinct words) followed by 0 to 5 random letters.
  static std::vector<std::string> make_vocabulary(std::size_t n, std::mt19937_64& rng) {
    std::vector<std::string> v;
    v.reserve(n);
    for (std::size_t r = 0; r < n; ++r) {
      // 7919 is prime and coprime to 26^4, so r -> code is a bijection on [0, 26^4).
      std::size_t code = (r * 7919 + 12345) % kMaxVocabulary;
      std::string w(4, 'a');
      for (char& c : w) {
        c = static_cast<char>('a' + code % 26);
        code /= 26;
      }
      const std::size_t extra = rng() % 6;
      for (std::size_t i = 0; i < extra; ++i) w += static_cast<char>('a' + rng() % 26);
      v.push_back(std::move(w));
    }
    return v;
  }

  std::size_t words_;
  std::string text_;
  std::vector<Document> docs_;
};

}  // namespace cpb::patterns::map_reduce
