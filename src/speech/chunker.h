#pragma once
// Chunker: cuts text that arrives in deltas into pieces a TTS engine can speak well on their
// own — sentences, or clauses once a piece is long enough — so that each piece can be spoken
// while the model is still writing the next.
//
//   Chunker c;
//   std::vector<std::string> ready;
//   c.add("Hello there. How", ready);   // ready == {"Hello there. "}
//   c.add(" are you", ready);           // nothing yet
//   c.add("?", ready);                   // ready == {..., "How are you?"}: a word's stop ends
//                                        // a delta's sentence at once ("3." waits: maybe "3.5")
//   std::string last = c.take_rest();   // at the end of the answer, or when waiting too long

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sy::speech {

struct ChunkerOptions {
  size_t min_clause_chars = 40;  // a clause (, ; :) ends a piece only once it is this long
  size_t max_chars = 400;        // a longer piece is cut at its last space
};

class Chunker {
 public:
  explicit Chunker(ChunkerOptions options = {}) : options_(options) {}

  // Appends `text`; each piece it completes is appended to `ready`. A sentence ends at '.',
  // '!', '?' or '…' followed by white space (so "3.5" and "e.g.x" do not end one), at a line
  // break, or at a '.', '!' or '?' that ends the text so far right after a letter.
  void add(std::string_view text, std::vector<std::string>& ready);
  // What is held back, up to its last word when `whole_words` (the rest stays), else all of it.
  std::string take_rest(bool whole_words = false);
  bool holding() const;  // held text with something to say (not only white space)

 private:
  ChunkerOptions options_;
  std::string held_;
  size_t scanned_ = 0;  // bytes of held_ already looked at for boundaries
};

}  // namespace sy::speech
