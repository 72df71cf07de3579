# Warning flags as an INTERFACE target, linked PRIVATE so they never leak to consumers.
add_library(claudegate_warnings INTERFACE)
target_compile_options(claudegate_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # -Wnull-dereference needs the optimiser's null-pointer analysis, so it only speaks at -O1+;
  # there, after inlining, it reports dozens of "potential" dereferences inside libstdc++'s
  # shared_ptr and Boost.Asio's io_context (GCC 12, bug 86568 and friends), which the user cannot
  # act on. Kept for the sanitizer builds (-O1, -Werror in CI), off for Release so that build is
  # quiet.
  $<$<NOT:$<CONFIG:Release>>:-Wnull-dereference>
  $<$<BOOL:${CLAUDEGATE_WERROR}>:-Werror>)
