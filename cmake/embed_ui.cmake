# Turns the dashboard's static files (src/ui/assets/) into one C++ source of string constants, so
# that the page ships inside the binary: no files to install, no CDN, nothing fetched at run
# time (docs/ui.md). Run at build time by the custom command in CMakeLists.txt:
#   cmake -DROOT=<source dir> -DOUT=<file.cpp> -DASSETS="index.html;app.css;app.js" -P embed_ui.cmake
# Each file becomes a raw string literal; one that contains the literal's closing delimiter, or
# is longer than the 65,536 characters a C++ compiler must accept in a literal, stops the build.
set(delimiter "cgui_asset")
set(body "")
set(table "")
set(index 0)
foreach(name IN LISTS ASSETS)
  file(READ "${ROOT}/src/ui/assets/${name}" content)
  string(FIND "${content}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "src/ui/assets/${name} contains )${delimiter}\" and cannot be embedded")
  endif()
  string(LENGTH "${content}" length)
  if(length GREATER 65000)
    message(FATAL_ERROR "src/ui/assets/${name} is ${length} bytes; split it (at most 65000)")
  endif()
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  else()
    message(FATAL_ERROR "src/ui/assets/${name}: unknown content type")
  endif()
  if(name STREQUAL "index.html")
    set(path "/ui")
  else()
    set(path "/ui/${name}")
  endif()
  string(APPEND body "constexpr std::string_view kAsset${index} = R\"${delimiter}(${content})${delimiter}\";\n")
  string(APPEND table "    {\"${path}\", \"${type}\", kAsset${index}},\n")
  math(EXPR index "${index} + 1")
endforeach()
set(generated "// Generated from src/ui/assets/ by cmake/embed_ui.cmake at build time: do not edit.
#include \"claudegate/ui/ui_assets.hpp\"

namespace claudegate::ui {
namespace {

${body}
constexpr UiAsset kUiAssets[] = {
${table}};

}  // namespace

std::span<const UiAsset> UiAssets() { return kUiAssets; }

}  // namespace claudegate::ui
")
# Written only when it changed, so an unchanged page does not rebuild the library.
if(EXISTS "${OUT}")
  file(READ "${OUT}" previous)
endif()
if(NOT "${previous}" STREQUAL "${generated}")
  file(WRITE "${OUT}" "${generated}")
endif()
