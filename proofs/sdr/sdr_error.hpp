// Errors of the SDR (stacked DRG) library.
#pragma once

#include <stdexcept>

namespace sealhost::proofs::sdr {

// Every failure of proofs/sdr: bad input (unknown proof, wrong sizes), I/O (parent cache, layer
// files, free space). The message names the object and says what to do.
class SdrError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// PC1 stopped because the caller's cancel check returned true. Complete layers are kept on
// disk (a new run resumes after them); the partial layer was removed.
class SdrCancelled : public SdrError {
 public:
  using SdrError::SdrError;
};

}  // namespace sealhost::proofs::sdr
