#include "claudegate/ui/ui_assets.hpp"

namespace claudegate::ui {

const UiAsset* FindUiAsset(std::string_view path) {
  if (path == "/ui/") {
    path = "/ui";
  }
  for (const auto& asset : UiAssets()) {
    if (asset.path == path) {
      return &asset;
    }
  }
  return nullptr;
}

}  // namespace claudegate::ui
