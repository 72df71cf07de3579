/// @file ui_assets.hpp
/// The dashboard's static files (docs/ui.md), embedded in the binary at build time from
/// src/ui/assets/ by cmake/embed_ui.cmake: the page works offline and needs nothing installed.
#pragma once

#include <span>
#include <string_view>

namespace claudegate::ui {

struct UiAsset {
  std::string_view path;          ///< `/ui` for the page, `/ui/<file>` for the rest.
  std::string_view content_type;  ///< With charset for text.
  std::string_view body;
};

/// Every embedded file.
[[nodiscard]] std::span<const UiAsset> UiAssets();

/// The file served at `path` (exactly; `/ui/` is the page too), or null.
[[nodiscard]] const UiAsset* FindUiAsset(std::string_view path);

}  // namespace claudegate::ui
