# Warning flags as an INTERFACE target, linked PRIVATE so they never leak to consumers.
add_library(claudegate_warnings INTERFACE)
target_compile_options(claudegate_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${CLAUDEGATE_WERROR}>:-Werror>)
