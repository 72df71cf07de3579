# Unity ("jumbo") builds for the sanitizer and fuzz trees (docs/performance.md, "CI time").
#
# The asan and tsan presets and scripts/fuzz set CMAKE_UNITY_BUILD=ON with a batch size, so each
# compiler run builds several .cpp files at once and the templates they share (nlohmann::json,
# Asio, gtest) are instantiated and optimised once per batch instead of once per file. The dev
# preset stays one file per translation unit, so the -Werror build still proves that every file
# includes what it uses.
#
# Files listed here are compiled on their own even in a unity build:
#  - the explicit instantiations of the request loop (serve_plain, serve_tls) and the session:
#    each is minutes of work by itself, and in a batch it would become the batch's long pole on
#    a 2-core machine instead of running beside the others;
#  - boost_impl.cpp, the compiled Asio/Beast sources (src/boost_impl.cpp), which are big and
#    define macros for the whole file;
#  - files whose file-local names (anonymous namespace helpers, `using json = ...` aliases)
#    collide with a file compiled before them in the same batch. A new collision shows up as a
#    "redefinition" or "ambiguous" error in the asan/tsan/fuzz build only: add the file here (or
#    give the helper a more specific name).
#
# claudegate_unity_exclusions(ROOT <repo root> [DIRECTORIES <dirs>...]) marks them in the
# current directory's scope (and in DIRECTORIES', which must already be added).
function(claudegate_unity_exclusions)
  cmake_parse_arguments(arg "" "ROOT" "DIRECTORIES" ${ARGN})
  set(own_files
    src/boost_impl.cpp
    src/server/serve_plain.cpp
    src/server/serve_tls.cpp
    src/server/session.cpp)
  set(colliding_files
    src/anthropic/surrogate_repair.cpp                   # json:: (namespace) vs json (alias)
    src/config/yaml_store.cpp                            # Fail()
    src/routes/responses_handler.cpp                     # UnixNow()
    src/translate/response/message_accumulator.cpp       # StringField()
    src/translate/response/web_search_output.cpp         # StringOr()
    src/translate/stream/json_string_extractor.cpp       # json:: (namespace) vs json (alias)
    src/translate/stream/stream_translator.cpp)          # kTruncatedMessage
  # The tests share claudegate::testing and table names (Case, kKey, Route, Daemon, ...).
  set(colliding_tests
    tests/integration/hostile_open_files_test.cpp
    tests/integration/process_test.cpp
    tests/integration/refusals_test.cpp
    tests/integration/retries_test.cpp
    tests/integration/upstream_faults_test.cpp
    tests/integration/upstream_pool_test.cpp
    tests/unit/anthropic/event_reader_test.cpp
    tests/unit/config/store_config_test.cpp
    tests/unit/routes/responses_input_test.cpp        # testing:: means claudegate::testing
    tests/unit/translate/chat_request_test.cpp
    tests/unit/translate/responses_request_test.cpp
    tests/unit/translate/responses_tools_test.cpp
    tests/unit/translate/stream_translator_test.cpp
    tests/unit/translate/tool_name_map_test.cpp)
  set(files ${own_files} ${colliding_files} ${colliding_tests})
  list(TRANSFORM files PREPEND "${arg_ROOT}/")
  set(scopes "${CMAKE_CURRENT_SOURCE_DIR}" ${arg_DIRECTORIES})
  set_source_files_properties(${files} DIRECTORY ${scopes}
                              PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()
