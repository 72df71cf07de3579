/// @file header_gate.hpp
/// The decision a session asks for as soon as a request's header is parsed, before it sends
/// `100 Continue` or reads a byte of the body: may this client make us hold its body?
///
/// Without it the whole body (up to `max_body_bytes`) was read before the key was checked, so
/// keyless clients could make the gateway hold gigabytes (docs/security.md). The session (http/)
/// knows only this interface; the auth middleware implements it.
#pragma once

#include <cstdint>

#include "claudegate/server/request_context.hpp"

namespace claudegate::middleware {

/// What the session does with a request once its header is in.
enum class HeaderVerdict : std::uint8_t {
  /// The client presented the master key: read the body (within the body budget), run the
  /// pipeline, keep the connection alive.
  kReadBody,
  /// The answer cannot depend on the body: a refusal already decided (then `ctx.refusal` is set
  /// and the pipeline answers it) or a route that needs no key (health probes). The session runs
  /// the pipeline without reading the body, and closes the connection afterwards when a body was
  /// announced. The connection stays evictable: it holds no authenticated request.
  kHeaderOnly,
};

/// Implementations must be safe to call from any thread.
class HeaderGate {
 public:
  virtual ~HeaderGate() = default;
  /// Decides from `ctx.request`'s header (its body is still empty) and `ctx.peer`. Sets
  /// `ctx.header_checked`, and `ctx.refusal` when refusing. Synchronous and O(header): it runs for
  /// every request before anything else is spent on it.
  virtual HeaderVerdict Check(server::RequestContext& ctx) const = 0;
};

}  // namespace claudegate::middleware
