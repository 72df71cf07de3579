/// @file write_outcome.hpp
/// What became of one `Save`d turn, as counted in claudegate_store_writes_total{outcome}.
#pragma once

#include <string_view>

namespace claudegate::store {

enum class WriteOutcome {
  kSaved,    ///< On disk.
  kDropped,  ///< Never written: the queue was full, or the store is off or unavailable.
  kFailed,   ///< The database refused the write (disk full, I/O error, corruption).
};

/// The metric label: "saved", "dropped", "failed".
[[nodiscard]] constexpr std::string_view Label(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::kSaved:
      return "saved";
    case WriteOutcome::kDropped:
      return "dropped";
    case WriteOutcome::kFailed:
      return "failed";
  }
  return "failed";
}

}  // namespace claudegate::store
